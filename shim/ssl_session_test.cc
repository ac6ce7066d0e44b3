// Session resumption (TLS 1.3 tickets, TLS 1.2 tickets and session IDs) and
// the SNI callback / SSLSocket::set_context, facade client against facade
// server over loopback TCP.

#include "shim/ssl_session.h"

#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "shim/errors.h"
#include "shim/ssl.h"
#include "shim/tls_test_util.h"
#include "testing/cert_builder.h"
#include "testing/status_matchers.h"

namespace sslshim::shim {
namespace {

using sslshim::testing::CertSpec;
using sslshim::testing::Issue;
using sslshim::testing::Issued;
using sslshim::testing::KeyType;
using sslshim::testing::SharedTestPki;
using sslshim::testing::TestPki;
using test::ClientContext;
using test::EchoOnce;
using test::PingExpectEcho;
using test::RunTls;
using test::ServerContext;

// Outcome of one client connection.
struct Conn {
  test::TlsRun run;
  std::shared_ptr<const SSLSession> session;
  bool client_reused = false;
  bool server_reused = false;
  std::string server_subject_cn;  // CN of the certificate the client saw.
};

Conn Connect(const std::shared_ptr<SSLContext>& server,
             const std::shared_ptr<SSLContext>& client, WrapOptions opts) {
  Conn c;
  c.run = RunTls(
      server, client, std::move(opts),
      [&c](SSLSocket& s) {
        c.server_reused = s.session_reused();
        return EchoOnce(s);
      },
      [&c](SSLSocket& s) {
        // Reading the echo also processes TLS 1.3 NewSessionTicket messages.
        absl::Status st = PingExpectEcho()(s);
        c.client_reused = s.session_reused();
        c.session = s.session();
        absl::StatusOr<std::string> der = s.getpeercert(binary_form);
        if (der.ok() && !der->empty()) {
          const uint8_t* p = reinterpret_cast<const uint8_t*>(der->data());
          bssl::UniquePtr<X509> x(d2i_X509(nullptr, &p, der->size()));
          char cn[256] = {0};
          if (x != nullptr) {
            X509_NAME_get_text_by_NID(X509_get_subject_name(x.get()),
                                      NID_commonName, cn, sizeof(cn));
          }
          c.server_subject_cn = cn;
        }
        return st;
      });
  return c;
}

// Resume reconnects offering `first`'s session.
Conn Resume(const std::shared_ptr<SSLContext>& server,
            const std::shared_ptr<SSLContext>& client, const Conn& first) {
  return Connect(server, client,
                 {.server_hostname = "localhost", .session = first.session});
}

class ResumptionTest : public ::testing::TestWithParam<TLSVersion> {};

TEST_P(ResumptionTest, TicketResumesOnSecondConnection) {
  const TestPki& pki = SharedTestPki(KeyType::kP256);
  auto server = ServerContext(pki);
  auto client = ClientContext(pki);
  ASSERT_NE(server, nullptr);
  ASSERT_NE(client, nullptr);
  ASSERT_OK(client->set_maximum_version(GetParam()));

  Conn first = Connect(server, client, {.server_hostname = "localhost"});
  ASSERT_OK(first.run.client);
  ASSERT_OK(first.run.server);
  EXPECT_FALSE(first.client_reused);
  ASSERT_NE(first.session, nullptr);
  EXPECT_TRUE(first.session->is_resumable());
  EXPECT_TRUE(first.session->has_ticket());
  EXPECT_GT(first.session->timeout(), 0);
  EXPECT_GT(first.session->time(), 0);

  Conn second = Resume(server, client, first);
  ASSERT_OK(second.run.client);
  ASSERT_OK(second.run.server);
  EXPECT_TRUE(second.client_reused);
  EXPECT_TRUE(second.server_reused);
  EXPECT_EQ(server->session_stats().Get("hits")->integer(), 1);
  EXPECT_EQ(server->session_stats().Get("misses")->integer(), 1);
  EXPECT_EQ(client->session_stats().Get("hits")->integer(), 1);
}

TEST_P(ResumptionTest, SerializedSessionResumes) {
  const TestPki& pki = SharedTestPki(KeyType::kP256);
  auto server = ServerContext(pki);
  auto client = ClientContext(pki);
  ASSERT_OK(client->set_maximum_version(GetParam()));
  Conn first = Connect(server, client, {.server_hostname = "localhost"});
  ASSERT_OK(first.run.client);
  ASSERT_NE(first.session, nullptr);
  ASSERT_OK_AND_ASSIGN(std::string bytes, first.session->ToBytes());
  ASSERT_OK_AND_ASSIGN(std::shared_ptr<const SSLSession> copy,
                       SSLSession::FromBytes(bytes));
  // A fresh client context (another process, in effect) resumes too.
  auto other_client = ClientContext(pki);
  ASSERT_OK(other_client->set_maximum_version(GetParam()));
  Conn second = Connect(server, other_client,
                        {.server_hostname = "localhost", .session = copy});
  ASSERT_OK(second.run.client);
  EXPECT_TRUE(second.client_reused);
  EXPECT_TRUE(second.server_reused);
}

INSTANTIATE_TEST_SUITE_P(Versions, ResumptionTest,
                         ::testing::Values(TLSVersion::TLSv1_2,
                                           TLSVersion::TLSv1_3),
                         [](const auto& info) {
                           return info.param == TLSVersion::TLSv1_2 ? "TLS12"
                                                                    : "TLS13";
                         });

TEST(ResumptionTest, Tls12NoTicketFallsBackToSessionIds) {
  const TestPki& pki = SharedTestPki(KeyType::kP256);
  auto server = ServerContext(pki);
  ASSERT_OK(server->set_options(server->options() | OP_NO_TICKET));
  auto client = ClientContext(pki);
  ASSERT_OK(client->set_maximum_version(TLSVersion::TLSv1_2));
  Conn first = Connect(server, client, {.server_hostname = "localhost"});
  ASSERT_OK(first.run.client);
  ASSERT_NE(first.session, nullptr);
  EXPECT_FALSE(first.session->has_ticket());
  EXPECT_FALSE(first.session->id().empty());
  Conn second = Resume(server, client, first);
  ASSERT_OK(second.run.client);
  EXPECT_TRUE(second.client_reused);
  EXPECT_TRUE(second.server_reused);
}

TEST(ResumptionTest, Tls13NoTicketMeansNoResumption) {
  const TestPki& pki = SharedTestPki(KeyType::kP256);
  auto server = ServerContext(pki);
  ASSERT_OK(server->set_options(server->options() | OP_NO_TICKET));
  auto client = ClientContext(pki);
  Conn first = Connect(server, client, {.server_hostname = "localhost"});
  ASSERT_OK(first.run.client);
  // No ticket was sent: the only session is the handshake's, not resumable.
  ASSERT_NE(first.session, nullptr);
  EXPECT_FALSE(first.session->is_resumable());
  Conn second = Resume(server, client, first);
  ASSERT_OK(second.run.client);
  EXPECT_FALSE(second.client_reused);
  EXPECT_FALSE(second.server_reused);
}

TEST(ResumptionTest, SessionFromAnotherServerIsNotReused) {
  const TestPki& pki = SharedTestPki(KeyType::kP256);
  auto server_a = ServerContext(pki);
  auto server_b = ServerContext(pki);  // Its own random ticket keys.
  auto client = ClientContext(pki);
  Conn first = Connect(server_a, client, {.server_hostname = "localhost"});
  ASSERT_OK(first.run.client);
  Conn second = Resume(server_b, client, first);
  ASSERT_OK(second.run.client);
  ASSERT_OK(second.run.server);
  EXPECT_FALSE(second.client_reused);
  EXPECT_EQ(server_b->session_stats().Get("misses")->integer(), 1);
}

TEST(ResumptionTest, BadInput) {
  EXPECT_FALSE(SSLSession::FromBytes("").ok());
  absl::StatusOr<std::shared_ptr<const SSLSession>> junk =
      SSLSession::FromBytes("definitely not a session");
  ASSERT_FALSE(junk.ok());
  EXPECT_EQ(junk.status().code(), absl::StatusCode::kInvalidArgument);

  // A server-side socket cannot take a session (Python's message).
  const TestPki& pki = SharedTestPki(KeyType::kP256);
  auto server = ServerContext(pki);
  auto client = ClientContext(pki);
  Conn first = Connect(server, client, {.server_hostname = "localhost"});
  ASSERT_OK(first.run.client);
  ASSERT_OK_AND_ASSIGN(sslshim::testing::TcpPair pair,
                       sslshim::testing::MakeTcpPair());
  ::close(pair.client);
  absl::StatusOr<std::unique_ptr<SSLSocket>> s = server->wrap_socket(
      pair.server, {.server_side = true, .do_handshake_on_connect = false,
                    .session = first.session});
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(absl::StrContains(s.status().message(), "server-side"));
}

// --- SNI callback ----------------------------------------------------------

std::shared_ptr<SSLContext> LeafContext(const Issued& leaf, const Issued& ca) {
  auto ctx = SSLContext::Create(PROTOCOL_TLS_SERVER);
  if (!ctx.ok()) return nullptr;
  if (!(*ctx)->load_cert_chain(StringIO(leaf.CertPem() + ca.CertPem()),
                               StringIO(leaf.KeyPem())).ok()) {
    return nullptr;
  }
  return *ctx;
}

TEST(SniCallbackTest, SwitchesContextByNameAndRefusesUnknown) {
  const TestPki& pki = SharedTestPki(KeyType::kP256);
  Issued tenant = Issue({.common_name = "tenant.example", .dns_names = {"tenant.example"}},
                        KeyType::kP256, &pki.intermediate);
  auto tenant_ctx = LeafContext(tenant, pki.intermediate);
  ASSERT_NE(tenant_ctx, nullptr);
  auto server = ServerContext(pki);  // Default: "localhost".
  std::vector<std::string> seen;
  server->set_sni_callback(
      [&](SSLSocket& sock, const absl::optional<std::string>& name,
          SSLContext& ctx) -> absl::Status {
        EXPECT_EQ(&ctx, server.get());
        seen.push_back(name.value_or("<none>"));
        if (!name.has_value() || *name == "localhost") return absl::OkStatus();
        if (*name == "tenant.example") return sock.set_context(tenant_ctx);
        return absl::NotFoundError("no certificate for " + *name);
      });
  auto client = ClientContext(pki);

  Conn tenant_conn = Connect(server, client, {.server_hostname = "tenant.example"});
  ASSERT_OK(tenant_conn.run.client);
  ASSERT_OK(tenant_conn.run.server);
  EXPECT_EQ(tenant_conn.server_subject_cn, "tenant.example");

  Conn default_conn = Connect(server, client, {.server_hostname = "localhost"});
  ASSERT_OK(default_conn.run.client);
  EXPECT_NE(default_conn.server_subject_cn, "tenant.example");

  // No SNI at all (hostname checking off): the callback sees nullopt.
  auto no_sni_client = ClientContext(pki);
  no_sni_client->set_check_hostname(false);
  Conn no_sni = Connect(server, no_sni_client, {});
  ASSERT_OK(no_sni.run.client);

  Conn unknown = Connect(server, client, {.server_hostname = "nobody.example"});
  ASSERT_FALSE(unknown.run.client.ok());
  EXPECT_TRUE(absl::StrContains(unknown.run.client.message(), "UNRECOGNIZED_NAME"))
      << unknown.run.client;
  ASSERT_FALSE(unknown.run.server.ok());
  EXPECT_EQ(unknown.run.server.code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(absl::StrContains(unknown.run.server.message(),
                                "no certificate for nobody.example"))
      << unknown.run.server;
  EXPECT_EQ(seen, (std::vector<std::string>{"tenant.example", "localhost",
                                            "<none>", "nobody.example"}));
}

TEST(SniCallbackTest, TicketsSurviveAContextSwitch) {
  // Tickets belong to the context the socket was wrapped with, so a tenant
  // connection resumes even though its certificate came from another context.
  const TestPki& pki = SharedTestPki(KeyType::kP256);
  Issued tenant = Issue({.common_name = "tenant.example", .dns_names = {"tenant.example"}},
                        KeyType::kP256, &pki.intermediate);
  auto tenant_ctx = LeafContext(tenant, pki.intermediate);
  auto server = ServerContext(pki);
  server->set_sni_callback([&](SSLSocket& sock, const absl::optional<std::string>&,
                               SSLContext&) { return sock.set_context(tenant_ctx); });
  auto client = ClientContext(pki);
  Conn first = Connect(server, client, {.server_hostname = "tenant.example"});
  ASSERT_OK(first.run.client);
  Conn second = Connect(server, client,
                        {.server_hostname = "tenant.example", .session = first.session});
  ASSERT_OK(second.run.client);
  EXPECT_TRUE(second.client_reused);
  EXPECT_EQ(server->session_stats().Get("hits")->integer(), 1);
  EXPECT_EQ(server->session_stats().Get("accept_good")->integer(), 2);
}

TEST(SniCallbackTest, SetContextRejectsNull) {
  const TestPki& pki = SharedTestPki(KeyType::kP256);
  auto server = ServerContext(pki);
  absl::Status from_cb;
  server->set_sni_callback([&](SSLSocket& sock, const absl::optional<std::string>&,
                               SSLContext&) {
    from_cb = sock.set_context(nullptr);
    return absl::OkStatus();
  });
  auto client = ClientContext(pki);
  Conn c = Connect(server, client, {.server_hostname = "localhost"});
  ASSERT_OK(c.run.client);
  EXPECT_EQ(from_cb.code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace sslshim::shim
