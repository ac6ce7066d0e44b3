// SlotContextProvider over an in-memory store: one-way and mutual server
// contexts from a record (CA from the record's field or a separate Source),
// rotation reaching Current() after a refresh, and recipe errors.

#include "runtime/slot_context_provider.h"

#include <memory>
#include <string>

#include "certstore/cert_store.h"
#include "certstore/key_path.h"
#include "certstore/store_url.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "shim/ssl.h"
#include "shim/tls_test_util.h"
#include "testing/cert_builder.h"
#include "testing/status_matchers.h"

namespace sslshim::runtime {
namespace {

using ::sslshim::certstore::CertStore;
using ::sslshim::certstore::Kek;
using ::sslshim::certstore::KeyPath;
using ::sslshim::shim::test::ClientContext;
using ::sslshim::shim::test::RunTls;
using ::sslshim::testing::KeyType;
using ::sslshim::testing::SharedTestPki;
using ::sslshim::testing::StatusIs;
using ::sslshim::testing::TestPki;

const TestPki& Pki() { return SharedTestPki(KeyType::kP256); }
KeyPath Path() { return *KeyPath::Parse("Web/api"); }

std::unique_ptr<CertStore> NewStore() {
  auto store = certstore::OpenStore("memory:");
  EXPECT_OK(store);
  auto cs = CertStore::Create(*std::move(store),
                              {.keks = {*Kek::FromBytes(std::string(32, '\x17'))}});
  EXPECT_OK(cs);
  return *std::move(cs);
}

absl::Status PutServer(CertStore& cs, const testing::Issued& leaf) {
  return cs
      .Put(Path(), {{"cert", leaf.CertPem() + Pki().intermediate.CertPem()},
                    {"key_str", leaf.KeyPem()},
                    {"ca", Pki().RootPem()}})
      .status();
}

// The served leaf's DER as the client sees it.
std::string ServedDer(ContextProvider& p,
                      std::shared_ptr<shim::SSLContext> client = ClientContext(Pki())) {
  absl::StatusOr<std::shared_ptr<shim::SSLContext>> server = p.Current();
  if (!server.ok()) return "";
  std::string der;
  auto run = RunTls(*server, client, {.server_hostname = "localhost"},
                    shim::test::EchoOnce, [&](shim::SSLSocket& s) -> absl::Status {
                      absl::StatusOr<std::string> d = s.getpeercert(shim::binary_form);
                      if (!d.ok()) return d.status();
                      der = *d;
                      return shim::test::PingExpectEcho()(s);
                    });
  EXPECT_OK(run.client);
  return der;
}

TEST(SlotContextProviderTest, OneWayServesTheRecordAndFollowsRotation) {
  std::unique_ptr<CertStore> cs = NewStore();
  ASSERT_OK(PutServer(*cs, Pki().server));
  auto p = SlotContextProvider::Create(
      cs.get(), Path(), {},
      {.watch = false, .recheck_interval = absl::InfiniteDuration()});
  ASSERT_OK(p);
  EXPECT_EQ(ServedDer(**p), Pki().server.CertDer());
  EXPECT_EQ((*p)->status().generation, 1u);

  testing::Issued next =
      testing::Issue({.common_name = "localhost", .dns_names = {"localhost"}},
                     KeyType::kP256, &Pki().intermediate);
  ASSERT_OK(PutServer(*cs, next));
  EXPECT_EQ(ServedDer(**p), Pki().server.CertDer());  // Not refreshed yet.
  ASSERT_OK((*p)->slot().Refresh());
  EXPECT_EQ(ServedDer(**p), next.CertDer());
  EXPECT_EQ((*p)->status().generation, 2u);
}

TEST(SlotContextProviderTest, MutualWithCaFieldOrSource) {
  std::unique_ptr<CertStore> cs = NewStore();
  ASSERT_OK(PutServer(*cs, Pki().server));
  auto client = ClientContext(Pki());
  ASSERT_OK(client->load_cert_chain(shim::StringIO(Pki().ClientChainPem()),
                                    shim::StringIO(Pki().client.KeyPem())));
  for (bool from_field : {true, false}) {
    SlotOptions options{.watch = false};
    ServerContextRecipe recipe{.verify = shim::CERT_REQUIRED};
    if (from_field) {
      options.ca_field = "ca";
    } else {
      recipe.ca = shim::StringIO(Pki().RootPem());
    }
    auto p = SlotContextProvider::Create(cs.get(), Path(), recipe, options);
    ASSERT_OK(p);
    EXPECT_EQ(ServedDer(**p, client), Pki().server.CertDer()) << from_field;
    // Without a client certificate the server refuses.
    auto server = (*p)->Current();
    ASSERT_OK(server);
    auto run = RunTls(*server, ClientContext(Pki()), {.server_hostname = "localhost"},
                      shim::test::EchoOnce, shim::test::PingExpectEcho());
    EXPECT_FALSE(run.server.ok());
  }
}

TEST(SlotContextProviderTest, Errors) {
  std::unique_ptr<CertStore> cs = NewStore();
  EXPECT_THAT(SlotContextProvider::Create(cs.get(), Path(), {}).status(),
              StatusIs(absl::StatusCode::kNotFound));
  ASSERT_OK(PutServer(*cs, Pki().server));
  EXPECT_THAT(
      SlotContextProvider::Create(cs.get(), Path(), {.verify = shim::CERT_REQUIRED})
          .status(),
      StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(SlotContextProvider::Create(nullptr, Path(), {}).status(),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace sslshim::runtime
