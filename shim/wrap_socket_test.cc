// The module-level wrap_socket(), used as App Engine apps used it.

#include "shim/wrap_socket.h"

#include <unistd.h>

#include <string>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "shim/errors.h"
#include "shim/ssl.h"
#include "testing/cert_builder.h"
#include "testing/fd_count.h"
#include "testing/socket_pair.h"
#include "testing/status_matchers.h"

namespace sslshim::shim {
namespace {

using ::sslshim::testing::KeyType;
using ::sslshim::testing::StatusIs;
using ::sslshim::testing::TestPki;
using ::testing::HasSubstr;

struct Sides {
  absl::StatusOr<std::unique_ptr<SSLSocket>> server = absl::UnknownError("unset");
  absl::StatusOr<std::unique_ptr<SSLSocket>> client = absl::UnknownError("unset");
};

// Connects wrap_socket(server_args) and wrap_socket(client_args) over TCP.
Sides Connect(const WrapSocketArgs& server_args, const WrapSocketArgs& client_args) {
  Sides sides;
  absl::StatusOr<sslshim::testing::TcpPair> pair = sslshim::testing::MakeTcpPair();
  if (!pair.ok()) return sides;
  std::thread server([&] { sides.server = wrap_socket(pair->server, server_args); });
  sides.client = wrap_socket(pair->client, client_args);
  if (!sides.client.ok()) {
    // Let a server blocked in its handshake see EOF.
  }
  server.join();
  return sides;
}

class WrapSocketTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { pki_ = new TestPki(TestPki::Make(KeyType::kP256)); }
  static const TestPki& pki() { return *pki_; }
  static WrapSocketArgs ServerArgs() {
    return {.keyfile = StringIO(pki().server.KeyPem()),
            .certfile = StringIO(pki().ServerChainPem()),
            .server_side = true};
  }
  static TestPki* pki_;
};
TestPki* WrapSocketTest::pki_ = nullptr;

TEST_F(WrapSocketTest, AppEngineStyleMutualTls) {
  WrapSocketArgs server = ServerArgs();
  server.cert_reqs = CERT_REQUIRED;
  server.ca_certs = StringIO(pki().RootPem());
  Sides sides = Connect(server, {.keyfile = StringIO(pki().client.KeyPem()),
                                 .certfile = StringIO(pki().ClientChainPem()),
                                 .server_side = false,
                                 .cert_reqs = CERT_REQUIRED,
                                 .ssl_version = PROTOCOL_SSLv23,
                                 .ca_certs = StringIO(pki().RootPem())});
  ASSERT_OK(sides.client);
  ASSERT_OK(sides.server);
  absl::StatusOr<PyValue> cert = (*sides.client)->getpeercert();
  ASSERT_OK(cert);
  EXPECT_OK(match_hostname(*cert, "localhost"));
  EXPECT_THAT(match_hostname(*cert, "a.hostname.com"),
              StatusIs(absl::StatusCode::kUnauthenticated));
  absl::StatusOr<PyValue> client_cert = (*sides.server)->getpeercert();
  ASSERT_OK(client_cert);
  EXPECT_THAT(client_cert->ToPythonRepr(), HasSubstr("'client.test'"));
  ASSERT_OK((*sides.client)->sendall("hi"));
  absl::StatusOr<std::string> got = (*sides.server)->recv(10);
  ASSERT_OK(got);
  EXPECT_EQ(*got, "hi");
}

TEST_F(WrapSocketTest, CertNoneByDefaultAndNoHostnameCheck) {
  // Python's wrap_socket defaults to CERT_NONE and never checks hostnames.
  Sides sides = Connect(ServerArgs(), {.server_hostname = "not-the-name.example"});
  ASSERT_OK(sides.client);
  absl::StatusOr<PyValue> cert = (*sides.client)->getpeercert();
  ASSERT_OK(cert);
  EXPECT_TRUE(cert->entries().empty());  // Unverified: {}.
}

TEST_F(WrapSocketTest, CertRequiredWithoutCaCertsIsRefused) {
  const int before = sslshim::testing::OpenFdCount();
  ASSERT_OK_AND_ASSIGN(sslshim::testing::TcpPair pair, sslshim::testing::MakeTcpPair());
  EXPECT_THAT(wrap_socket(pair.client, {.cert_reqs = CERT_REQUIRED}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("ca_certs must be specified")));
  close(pair.server);
  EXPECT_EQ(sslshim::testing::OpenFdCount(), before);
}

TEST_F(WrapSocketTest, NpnProtocolsAreServedAsAlpn) {
  WrapSocketArgs server = ServerArgs();
  server.npn_protocols = {"http/1.1"};
  Sides sides = Connect(server, {.npn_protocols = {"spdy/2", "http/1.1"}});
  ASSERT_OK(sides.client);
  EXPECT_EQ((*sides.client)->selected_alpn_protocol(),
            absl::optional<std::string>("http/1.1"));
}

TEST_F(WrapSocketTest, ProtocolPinsSelectExactlyOneVersion) {
  struct Case {
    Protocol pin;
    std::string version;
  } cases[] = {{PROTOCOL_TLSv1_2, "TLSv1.2"},
               {PROTOCOL_TLSv1_1, "TLSv1.1"},
               {PROTOCOL_TLSv1, "TLSv1"},
               {PROTOCOL_SSLv23, "TLSv1.3"}};
  for (const Case& c : cases) {
    SCOPED_TRACE(c.version);
    WrapSocketArgs server = ServerArgs();
    server.ssl_version = c.pin;
    Sides sides = Connect(server, {.ssl_version = c.pin});
    ASSERT_OK(sides.client);
    EXPECT_EQ((*sides.client)->version(), absl::optional<std::string>(c.version));
  }
  // A TLSv1 pin against a default (TLS 1.2+) server fails cleanly.
  Sides sides = Connect(ServerArgs(), {.ssl_version = PROTOCOL_TLSv1});
  EXPECT_FALSE(sides.client.ok());
  EXPECT_THAT(std::string(sides.client.status().message()),
              HasSubstr("PROTOCOL_VERSION"));
}

TEST_F(WrapSocketTest, CiphersArgument) {
  WrapSocketArgs server = ServerArgs();
  server.ssl_version = PROTOCOL_TLSv1_2;
  server.ciphers = "ECDHE-ECDSA-AES256-GCM-SHA384";
  Sides sides = Connect(server, {});
  ASSERT_OK(sides.client);
  EXPECT_EQ((*sides.client)->cipher()->name, "ECDHE-ECDSA-AES256-GCM-SHA384");
  const int before = sslshim::testing::OpenFdCount();
  ASSERT_OK_AND_ASSIGN(sslshim::testing::TcpPair pair, sslshim::testing::MakeTcpPair());
  EXPECT_THAT(wrap_socket(pair.client, {.ciphers = "BOGUS"}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("No cipher can be selected.")));
  close(pair.server);
  EXPECT_EQ(sslshim::testing::OpenFdCount(), before);
}

}  // namespace
}  // namespace sslshim::shim
