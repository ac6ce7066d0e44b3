// SNI from the store: 1,000+ tenant certificates in an LMDB store, an index
// rebuilt from their SAN metadata, and facade clients asking for exact,
// wildcard, unknown and no SNI names; the LRU cache's evictions; a rotated
// tenant certificate served on the next handshake after the change is seen.

#include "runtime/sni_provider.h"

#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "certstore/lmdb_store.h"
#include "gtest/gtest.h"
#include "runtime/sni_index.h"
#include "shim/ssl.h"
#include "shim/tls_test_util.h"
#include "testing/cert_builder.h"
#include "testing/status_matchers.h"

namespace sslshim::runtime {
namespace {

using certstore::KeyPath;
using sslshim::testing::Issue;
using sslshim::testing::Issued;
using sslshim::testing::KeyType;
using sslshim::testing::SharedTestPki;

constexpr int kTenants = 1000;

std::string TmpDir(absl::string_view name) {
  const char* t = getenv("TEST_TMPDIR");
  return absl::StrCat(t != nullptr ? t : "/tmp", "/", name);
}

KeyPath TenantPath(int i) { return *KeyPath::Of({"Tenant", i}); }
std::string TenantName(int i) { return absl::StrCat("t", i, ".example.test"); }

// Put one tenant record: chain (leaf + intermediate) and key.
absl::Status PutTenant(certstore::CertStore& cs, const KeyPath& path,
                       const std::vector<std::string>& names, const std::string& cn) {
  const auto& pki = SharedTestPki(KeyType::kP256);
  Issued leaf = Issue({.common_name = cn, .dns_names = names}, KeyType::kP256,
                      &pki.intermediate);
  absl::StatusOr<uint64_t> gen = cs.Put(
      path, {{"cert", leaf.CertPem() + pki.intermediate.CertPem()},
             {"key_str", leaf.KeyPem()}});
  if (!gen.ok()) return gen.status();
  absl::StatusOr<certstore::Record> r = cs.Get(path);
  if (!r.ok()) return r.status();
  return IndexRecord(*cs.store(), *r).status();
}

class SniProviderTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto store = certstore::LmdbStore::Create(
        {.directory = TmpDir("sni-lmdb"), .sync = false});
    ASSERT_OK(store.status());
    store_ = store->release();
    auto cs = certstore::CertStore::CreateBorrowed(
        store_, {.keks = {*certstore::Kek::FromBytes(std::string(32, 's'))}});
    ASSERT_OK(cs.status());
    cs_ = cs->release();
    const auto& pki = SharedTestPki(KeyType::kP256);
    for (int i = 0; i < kTenants; ++i) {
      Issued leaf = Issue({.common_name = TenantName(i), .dns_names = {TenantName(i)}},
                          KeyType::kP256, &pki.intermediate);
      ASSERT_OK(cs_->Put(TenantPath(i), {{"cert", leaf.CertPem() + pki.intermediate.CertPem()},
                                        {"key_str", leaf.KeyPem()}})
                    .status());
    }
    Issued wild = Issue({.common_name = "wild", .dns_names = {"*.wild.example.test"}},
                        KeyType::kP256, &pki.intermediate);
    ASSERT_OK(cs_->Put(*KeyPath::Of({"Tenant", "wild"}),
                       {{"cert", wild.CertPem() + pki.intermediate.CertPem()},
                        {"key_str", wild.KeyPem()}})
                  .status());
    // The index is built from the records' SAN metadata, in one pass.
    size_t skipped = 0;
    absl::StatusOr<size_t> indexed = RebuildSniIndex(*cs_, KeyPath(), &skipped);
    ASSERT_OK(indexed.status());
    ASSERT_EQ(*indexed, kTenants + 1u);
    ASSERT_EQ(skipped, 0u);
  }
  static void TearDownTestSuite() {
    delete cs_;
    delete store_;
  }

  std::shared_ptr<SniProvider> MakeProvider(SniProviderOptions opts = {}) {
    default_ctx_ = shim::test::ServerContext(SharedTestPki(KeyType::kP256));
    absl::StatusOr<std::shared_ptr<SniProvider>> p =
        SniProvider::Create(cs_, default_ctx_, opts);
    EXPECT_OK(p.status());
    return p.ok() ? *p : nullptr;
  }

  struct Seen {
    shim::test::TlsRun run;
    std::string cn;  // Server certificate's CN as the client saw it.
  };
  Seen Hello(const std::string& sni) {
    auto client = shim::test::ClientContext(SharedTestPki(KeyType::kP256));
    if (sni.empty()) client->set_check_hostname(false);
    Seen seen;
    seen.run = shim::test::RunTls(
        default_ctx_, client, {.server_hostname = sni}, shim::test::EchoOnce,
        [&seen](shim::SSLSocket& s) {
          absl::StatusOr<shim::PyValue> cert = s.getpeercert();
          if (cert.ok()) seen.cn = shim::SubjectCommonName(*cert);
          return shim::test::PingExpectEcho()(s);
        });
    return seen;
  }

  static certstore::Store* store_;
  static certstore::CertStore* cs_;
  std::shared_ptr<shim::SSLContext> default_ctx_;
};

certstore::Store* SniProviderTest::store_ = nullptr;
certstore::CertStore* SniProviderTest::cs_ = nullptr;

TEST_F(SniProviderTest, ExactWildcardUnknownAndNoSni) {
  auto sni = MakeProvider();
  Seen exact = Hello(TenantName(5));
  ASSERT_OK(exact.run.client);
  EXPECT_EQ(exact.cn, TenantName(5));

  Seen wildcard = Hello("api.wild.example.test");
  ASSERT_OK(wildcard.run.client);
  EXPECT_EQ(wildcard.cn, "wild");

  // Wildcards cover one label only.
  Seen too_deep = Hello("a.b.wild.example.test");
  EXPECT_FALSE(too_deep.run.client.ok());

  Seen unknown = Hello("nobody.example.test");
  ASSERT_FALSE(unknown.run.client.ok());
  EXPECT_TRUE(absl::StrContains(unknown.run.client.message(), "UNRECOGNIZED_NAME"))
      << unknown.run.client;
  ASSERT_FALSE(unknown.run.server.ok());
  EXPECT_EQ(unknown.run.server.code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(absl::StrContains(unknown.run.server.message(),
                                "no certificate for 'nobody.example.test' in the SNI index"))
      << unknown.run.server;

  Seen none = Hello("");
  ASSERT_OK(none.run.client);
  EXPECT_EQ(none.cn, "localhost");  // The default context's certificate.

  SniStats st = sni->Stats();
  EXPECT_EQ(st.misses, 2u);
  EXPECT_EQ(st.unknown_names, 2u);
  EXPECT_EQ(st.no_sni, 1u);
}

TEST_F(SniProviderTest, ThousandTenantsThroughABoundedCache) {
  auto sni = MakeProvider({.cache_capacity = 64});
  for (int i = 0; i < kTenants; ++i) {
    Seen s = Hello(TenantName(i));
    ASSERT_OK(s.run.client) << TenantName(i);
    ASSERT_EQ(s.cn, TenantName(i));
  }
  SniStats st = sni->Stats();
  EXPECT_EQ(st.misses, static_cast<uint64_t>(kTenants));
  EXPECT_EQ(st.evictions, static_cast<uint64_t>(kTenants - 64));
  EXPECT_EQ(st.size, 64u);
  EXPECT_EQ(st.hits, 0u);
  // The most recent 64 are cached; the first one was evicted.
  ASSERT_OK(Hello(TenantName(kTenants - 1)).run.client);
  EXPECT_EQ(sni->Stats().hits, 1u);
  ASSERT_OK(Hello(TenantName(0)).run.client);
  EXPECT_EQ(sni->Stats().misses, kTenants + 1u);
  EXPECT_EQ(sni->Stats().evictions, kTenants - 63u);
}

TEST_F(SniProviderTest, RotatedTenantServedOnNextHandshake) {
  auto sni = MakeProvider();
  const std::string name = TenantName(7);
  ASSERT_OK(Hello(name).run.client);
  ASSERT_OK(Hello(name).run.client);
  EXPECT_EQ(sni->Stats().hits, 1u);
  ASSERT_OK_AND_ASSIGN(certstore::Record before, cs_->Get(TenantPath(7)));

  const uint64_t invalidations = sni->Stats().invalidations;
  ASSERT_OK(PutTenant(*cs_, TenantPath(7), {name}, "rotated-" + name));
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (sni->Stats().invalidations == invalidations && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  ASSERT_GT(sni->Stats().invalidations, invalidations);
  Seen after = Hello(name);
  ASSERT_OK(after.run.client);
  EXPECT_EQ(after.cn, "rotated-" + name);
  // Other tenants' entries were not touched by tenant 7's change.
  EXPECT_EQ(sni->Stats().invalidations, invalidations + 1);
}

TEST_F(SniProviderTest, BrokenRecordIsAClearErrorNotACrash) {
  auto sni = MakeProvider({.watch = false});
  const KeyPath broken = *KeyPath::Of({"Tenant", "broken"});
  // A record without a key field, indexed by hand.
  const auto& pki = SharedTestPki(KeyType::kP256);
  Issued leaf = Issue({.common_name = "broken", .dns_names = {"broken.example.test"}},
                      KeyType::kP256, &pki.intermediate);
  ASSERT_OK(cs_->Put(broken, {{"cert", leaf.CertPem()}}).status());
  ASSERT_OK_AND_ASSIGN(certstore::Record r, cs_->Get(broken));
  ASSERT_OK(IndexRecord(*store_, r).status());
  Seen s = Hello("broken.example.test");
  ASSERT_FALSE(s.run.client.ok());
  ASSERT_FALSE(s.run.server.ok());
  EXPECT_TRUE(absl::StrContains(s.run.server.message(), "key_str")) << s.run.server;
  EXPECT_EQ(sni->Stats().load_errors, 1u);
}

TEST(SniIndexTest, PathsAndBadNames) {
  EXPECT_EQ(SniIndexPath("WWW.Example.com.")->ToString(), "SNI/com.example.www");
  EXPECT_EQ(SniIndexPath("*.example.com")->ToString(), "SNI/com.example.%2A");
  EXPECT_FALSE(SniIndexPath("").ok());
  EXPECT_FALSE(SniIndexPath("a..b").ok());
  EXPECT_FALSE(SniIndexPath("*.com").ok());
  EXPECT_FALSE(SniIndexPath("a.*.example.com").ok());
  EXPECT_FALSE(SniIndexPath("w*.example.com").ok());
}

TEST(SniIndexTest, ExactWinsOverWildcard) {
  auto store = certstore::LmdbStore::Create({.directory = TmpDir("sni-lmdb-2"), .sync = false});
  ASSERT_OK(store.status());
  ASSERT_OK((*store)->Put(*SniIndexPath("*.example.com"), "Tenant/wild",
                          certstore::kAnyGeneration).status());
  ASSERT_OK((*store)->Put(*SniIndexPath("a.example.com"), "Tenant/a",
                          certstore::kAnyGeneration).status());
  EXPECT_EQ(LookupSni(**store, "A.example.com")->ToString(), "Tenant/a");
  EXPECT_EQ(LookupSni(**store, "b.example.com")->ToString(), "Tenant/wild");
  EXPECT_EQ(LookupSni(**store, "example.com").status().code(), absl::StatusCode::kNotFound);
  ASSERT_OK((*store)->Put(*SniIndexPath("bad.example.com"), "not a path!",
                          certstore::kAnyGeneration).status());
  EXPECT_EQ(LookupSni(**store, "bad.example.com").status().code(),
            absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace sslshim::runtime
