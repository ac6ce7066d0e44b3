#include "runtime/https_server.h"

#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "runtime/context_provider.h"
#include "runtime/https_server_test_util.h"
#include "runtime/net.h"
#include "shim/errors.h"
#include "testing/cert_builder.h"
#include "testing/fd_count.h"
#include "testing/status_matchers.h"
#include "tests/interop/subprocess.h"

namespace sslshim::runtime {
namespace {

using ::sslshim::interop::Subprocess;
using ::sslshim::interop::SubprocessResult;
using ::sslshim::runtime::testing::EchoHandler;
using ::sslshim::runtime::testing::EventLog;
using ::sslshim::runtime::testing::ReadResponse;
using ::sslshim::runtime::testing::ReadUntilClosed;
using ::sslshim::runtime::testing::ServerPki;
using ::sslshim::runtime::testing::TestResponse;
using ::sslshim::runtime::testing::WaitUntil;
using ::sslshim::testing::IsOk;
using ::testing::HasSubstr;

class HttpsServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    pki_ = ServerPki::Make();
    fds_before_ = sslshim::testing::OpenFdCount();
  }

  void TearDown() override {
    server_.reset();
    // Every connection and loop fd is gone once the server is.
    EXPECT_EQ(sslshim::testing::OpenFdCount(), fds_before_);
  }

  void StartServer(bool mutual, HttpsServerOptions options = {},
                   HttpHandler handler = EchoHandler()) {
    options.threads = options.threads == 0 ? 2 : options.threads;
    options.on_connection_closed = log_.Callback();
    absl::StatusOr<std::unique_ptr<HttpsServer>> s = HttpsServer::Start(
        options, FixedContextProvider(pki_.ServerContext(mutual)),
        std::move(handler));
    ASSERT_THAT(s, IsOk());
    server_ = *std::move(s);
  }

  std::string Url(absl::string_view path) const {
    return absl::StrCat("https://127.0.0.1:", server_->port(), path);
  }

  ServerPki pki_;
  EventLog log_;
  std::unique_ptr<HttpsServer> server_;
  int fds_before_ = 0;
};

// curl, one-way TLS: two URLs on one command line share one connection.
TEST_F(HttpsServerTest, CurlOneWayKeepAlive) {
  StartServer(/*mutual=*/false);
  absl::StatusOr<SubprocessResult> r = Subprocess::Run(
      {"/usr/bin/curl", "-sS", "--cacert", pki_.ca_path, "-w",
       "|%{http_code}|%{num_connects}\n", Url("/one"), Url("/two?x=1")});
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(r->exit_code, 0) << r->err;
  EXPECT_EQ(r->out, "GET /one\n|200|1\nGET /two?x=1\n|200|0\n");
  ASSERT_TRUE(log_.WaitFor(1));
  std::vector<ConnectionEvent> events = log_.Events();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_TRUE(events[0].handshake_ok);
  EXPECT_EQ(events[0].requests, 2u);
  EXPECT_EQ(events[0].version, "TLSv1.3");
  EXPECT_TRUE(events[0].peercert.is_none());  // No client certificate.
  EXPECT_EQ(server_->Stats().requests, 2u);
}

// curl, mutual TLS: the handler sees the verified client subject.
TEST_F(HttpsServerTest, CurlMutual) {
  StartServer(/*mutual=*/true);
  absl::StatusOr<SubprocessResult> r = Subprocess::Run(
      {"/usr/bin/curl", "-sS", "-i", "--cacert", pki_.ca_path, "--cert",
       pki_.client_cert_path, "--key", pki_.client_key_path, "-d", "payload",
       "-w", "|%{http_code}", Url("/post")});
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(r->exit_code, 0) << r->err;
  EXPECT_THAT(r->out, HasSubstr("X-Subject: CN=client.test"));
  EXPECT_THAT(r->out, HasSubstr("X-Verified: yes"));
  EXPECT_THAT(r->out, HasSubstr("POST /post\npayload|200"));
  ASSERT_TRUE(log_.WaitFor(1));
  const ConnectionEvent e = log_.Events()[0];
  EXPECT_EQ(e.subject, "CN=client.test");
  ASSERT_NE(e.peercert.Get("subject"), nullptr);
  EXPECT_THAT(e.ToJson(), HasSubstr("\"peercert\":{\"subject\":"));
  EXPECT_THAT(e.ToJson(), HasSubstr("\"client.test\""));
}

// curl without a client certificate against CERT_REQUIRED is refused, and
// the event says why.
TEST_F(HttpsServerTest, CurlWithoutClientCertRefused) {
  StartServer(/*mutual=*/true);
  absl::StatusOr<SubprocessResult> r = Subprocess::Run(
      {"/usr/bin/curl", "-sS", "--cacert", pki_.ca_path, Url("/")});
  ASSERT_THAT(r, IsOk());
  EXPECT_NE(r->exit_code, 0);
  // The client read our alert rather than a reset.
  EXPECT_THAT(r->err, HasSubstr("alert certificate required"));
  ASSERT_TRUE(log_.WaitFor(1));
  const ConnectionEvent e = log_.Events()[0];
  EXPECT_FALSE(e.handshake_ok);
  EXPECT_EQ(e.close_reason, CloseReason::kHandshakeFailed);
  EXPECT_EQ(e.error_kind, shim::ErrorKind::kSSLError);
  EXPECT_THAT(e.error, HasSubstr("PEER_DID_NOT_RETURN_A_CERTIFICATE"));
  EXPECT_EQ(server_->Stats().handshakes_failed, 1u);
}

// Python requests with verify= and cert=, several requests on one Session.
TEST_F(HttpsServerTest, PythonRequestsMutual) {
  StartServer(/*mutual=*/true);
  const std::string script = absl::StrCat(
      "import requests\n"
      "s = requests.Session()\n"
      "for i in range(3):\n"
      "    r = s.post('", Url("/py"), "', data='n%d' % i, verify='",
      pki_.ca_path, "', cert=('", pki_.client_cert_path, "', '",
      pki_.client_key_path, "'), timeout=10)\n"
      "    print(r.status_code, r.headers['X-Subject'], repr(r.text))\n");
  absl::StatusOr<SubprocessResult> r =
      Subprocess::Run({"/usr/bin/python3", "-c", script});
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(r->exit_code, 0) << r->err;
  EXPECT_EQ(r->out,
            "200 CN=client.test 'POST /py\\nn0'\n"
            "200 CN=client.test 'POST /py\\nn1'\n"
            "200 CN=client.test 'POST /py\\nn2'\n");
  ASSERT_TRUE(log_.WaitFor(1));
  EXPECT_EQ(log_.Events()[0].requests, 3u);  // One keep-alive connection.
}

// A facade client pipelines three requests in one write; answers come back
// in order; the last asks to close.
TEST_F(HttpsServerTest, FacadeClientPipelining) {
  StartServer(/*mutual=*/false);
  absl::StatusOr<std::unique_ptr<shim::SSLSocket>> c =
      pki_.Connect(server_->port());
  ASSERT_THAT(c, IsOk());
  ASSERT_THAT((*c)->sendall("GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
                            "POST /b HTTP/1.1\r\nHost: x\r\n"
                            "Transfer-Encoding: chunked\r\n\r\n"
                            "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"
                            "GET /c HTTP/1.1\r\nHost: x\r\nConnection: close"
                            "\r\n\r\n"),
              IsOk());
  std::string rest;
  absl::StatusOr<TestResponse> a = ReadResponse(**c, &rest);
  absl::StatusOr<TestResponse> b = ReadResponse(**c, &rest);
  absl::StatusOr<TestResponse> d = ReadResponse(**c, &rest);
  ASSERT_THAT(a, IsOk());
  ASSERT_THAT(b, IsOk());
  ASSERT_THAT(d, IsOk());
  EXPECT_EQ(a->body, "GET /a\n");
  EXPECT_EQ(b->body, "POST /b\nabcde");  // Chunked body decoded.
  EXPECT_EQ(d->body, "GET /c\n");
  EXPECT_FALSE(a->closes);
  EXPECT_TRUE(d->closes);
  EXPECT_EQ(ReadUntilClosed(**c), "");
  ASSERT_TRUE(log_.WaitFor(1));
  EXPECT_EQ(log_.Events()[0].close_reason, CloseReason::kConnectionClose);
}

// HTTP/1.0: closed after the response unless it asks for keep-alive.
TEST_F(HttpsServerTest, Http10) {
  StartServer(/*mutual=*/false);
  absl::StatusOr<std::unique_ptr<shim::SSLSocket>> c =
      pki_.Connect(server_->port());
  ASSERT_THAT(c, IsOk());
  ASSERT_THAT((*c)->sendall("GET /k HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"
                            "GET /z HTTP/1.0\r\n\r\n"),
              IsOk());
  std::string rest;
  absl::StatusOr<TestResponse> k = ReadResponse(**c, &rest);
  ASSERT_THAT(k, IsOk());
  EXPECT_THAT(k->head, HasSubstr("Connection: keep-alive"));
  absl::StatusOr<TestResponse> z = ReadResponse(**c, &rest);
  ASSERT_THAT(z, IsOk());
  EXPECT_TRUE(z->closes);
  EXPECT_EQ(ReadUntilClosed(**c), "");
}

struct BadCase {
  std::string name;
  std::string request;
  int status;
};

// Malformed and oversized requests get their status and a closed connection.
TEST_F(HttpsServerTest, BadRequestsAnsweredAndClosed) {
  HttpsServerOptions options;
  options.limits.max_header_bytes = 1024;
  options.limits.max_body_bytes = 100;
  StartServer(/*mutual=*/false, options);
  const std::vector<BadCase> cases = {
      {"garbage", "\x01\x02\x03 nonsense\r\n\r\n", 400},
      {"no host", "GET / HTTP/1.1\r\n\r\n", 400},
      {"bad version", "GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505},
      {"header too large",
       absl::StrCat("GET / HTTP/1.1\r\nHost: x\r\nX-Big: ",
                    std::string(2000, 'a'), "\r\n\r\n"),
       431},
      {"content-length too large",
       "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 101\r\n\r\n", 413},
      {"chunked too large",
       absl::StrCat("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: "
                    "chunked\r\n\r\n65\r\n",
                    std::string(101, 'b'), "\r\n0\r\n\r\n"),
       413},
      {"both lengths",
       "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n"
       "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
       400},
  };
  for (const BadCase& bc : cases) {
    SCOPED_TRACE(bc.name);
    absl::StatusOr<std::unique_ptr<shim::SSLSocket>> c =
        pki_.Connect(server_->port());
    ASSERT_THAT(c, IsOk());
    ASSERT_THAT((*c)->sendall(bc.request), IsOk());
    absl::StatusOr<TestResponse> r = ReadResponse(**c);
    ASSERT_THAT(r, IsOk());
    EXPECT_EQ(r->status, bc.status);
    EXPECT_TRUE(r->closes);
    EXPECT_EQ(ReadUntilClosed(**c), "");
  }
  ASSERT_TRUE(log_.WaitFor(cases.size()));
  for (const ConnectionEvent& e : log_.Events()) {
    EXPECT_EQ(e.close_reason, CloseReason::kBadRequest);
    EXPECT_FALSE(e.error.empty());
  }
  EXPECT_EQ(server_->Stats().bad_requests, cases.size());
}

// A handler error becomes a 500; the connection stays usable.
TEST_F(HttpsServerTest, HandlerErrorIs500) {
  StartServer(/*mutual=*/false, {},
              [](const HttpRequest& req) -> absl::StatusOr<HttpResponse> {
                if (req.target == "/fail") {
                  return absl::InternalError("secret detail");
                }
                return HttpResponse{.body = "fine"};
              });
  absl::StatusOr<std::unique_ptr<shim::SSLSocket>> c =
      pki_.Connect(server_->port());
  ASSERT_THAT(c, IsOk());
  ASSERT_THAT((*c)->sendall("GET /fail HTTP/1.1\r\nHost: x\r\n\r\n"), IsOk());
  absl::StatusOr<TestResponse> r = ReadResponse(**c);
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(r->status, 500);
  EXPECT_THAT(r->body, ::testing::Not(HasSubstr("secret")));
  ASSERT_THAT((*c)->sendall("GET /ok HTTP/1.1\r\nHost: x\r\n\r\n"), IsOk());
  r = ReadResponse(**c);
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(r->body, "fine");
}

// A client sending one byte every 200 ms is dropped at request_timeout
// (with a 408), not served forever.
TEST_F(HttpsServerTest, SlowClientDroppedAtRequestTimeout) {
  HttpsServerOptions options;
  options.request_timeout = absl::Milliseconds(800);
  StartServer(/*mutual=*/false, options);
  absl::StatusOr<std::unique_ptr<shim::SSLSocket>> c =
      pki_.Connect(server_->port());
  ASSERT_THAT(c, IsOk());
  const std::string request = "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n";
  const absl::Time start = absl::Now();
  size_t sent = 0;
  for (; sent < request.size(); ++sent) {
    if (!(*c)->sendall(request.substr(sent, 1)).ok()) break;
    if (!log_.Events().empty()) break;
    absl::SleepFor(absl::Milliseconds(200));
  }
  EXPECT_LT(sent, request.size());
  const std::string rest = ReadUntilClosed(**c);
  const absl::Duration took = absl::Now() - start;
  EXPECT_THAT(rest, HasSubstr("408 Request Timeout"));
  EXPECT_GE(took, absl::Milliseconds(700));
  EXPECT_LT(took, absl::Seconds(4));
  ASSERT_TRUE(log_.WaitFor(1));
  EXPECT_EQ(log_.Events()[0].close_reason, CloseReason::kRequestTimeout);
  EXPECT_EQ(server_->Stats().timeouts, 1u);
}

// A TCP client that never starts TLS is closed at handshake_timeout; an idle
// keep-alive connection at idle_timeout.
TEST_F(HttpsServerTest, HandshakeAndIdleTimeouts) {
  HttpsServerOptions options;
  options.handshake_timeout = absl::Milliseconds(300);
  options.idle_timeout = absl::Milliseconds(300);
  StartServer(/*mutual=*/false, options);
  absl::StatusOr<int> raw = ConnectTcp("127.0.0.1", server_->port(),
                                       absl::Seconds(5));
  ASSERT_THAT(raw, IsOk());
  absl::StatusOr<std::unique_ptr<shim::SSLSocket>> c =
      pki_.Connect(server_->port());
  ASSERT_THAT(c, IsOk());
  ASSERT_THAT((*c)->sendall("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), IsOk());
  ASSERT_THAT(ReadResponse(**c), IsOk());
  // Both are closed by the server without us doing anything.
  char byte;
  EXPECT_EQ(recv(*raw, &byte, 1, 0), 0);
  EXPECT_EQ(ReadUntilClosed(**c), "");
  close(*raw);
  ASSERT_TRUE(log_.WaitFor(2));
  std::vector<CloseReason> reasons;
  for (const ConnectionEvent& e : log_.Events()) reasons.push_back(e.close_reason);
  EXPECT_THAT(reasons, ::testing::UnorderedElementsAre(
                           CloseReason::kHandshakeTimeout,
                           CloseReason::kIdleTimeout));
}

// Beyond max_connections new connections are closed at accept.
TEST_F(HttpsServerTest, MaxConnections) {
  HttpsServerOptions options;
  options.max_connections = 2;
  StartServer(/*mutual=*/false, options);
  absl::StatusOr<std::unique_ptr<shim::SSLSocket>> a =
      pki_.Connect(server_->port());
  absl::StatusOr<std::unique_ptr<shim::SSLSocket>> b =
      pki_.Connect(server_->port());
  ASSERT_THAT(a, IsOk());
  ASSERT_THAT(b, IsOk());
  absl::StatusOr<std::unique_ptr<shim::SSLSocket>> c =
      pki_.Connect(server_->port());
  EXPECT_FALSE(c.ok());
  EXPECT_EQ(server_->Stats().refused, 1u);
  EXPECT_EQ(server_->Stats().connections_open, 2u);
  ASSERT_TRUE(log_.WaitFor(1));
  EXPECT_EQ(log_.Events()[0].close_reason, CloseReason::kMaxConnections);
  // Once one closes, a new connection is accepted again.
  a->reset();
  ASSERT_TRUE(WaitUntil([&] { return server_->Stats().connections_open == 1; }));
  EXPECT_THAT(pki_.Connect(server_->port()), IsOk());
}

// Graceful shutdown: the in-flight request completes (with Connection:
// close), the idle keep-alive connection is closed, new connects fail.
TEST_F(HttpsServerTest, GracefulShutdownFinishesInFlightRequest) {
  std::atomic<bool> in_handler{false};
  StartServer(/*mutual=*/false, {},
              [&](const HttpRequest& req) -> absl::StatusOr<HttpResponse> {
                if (req.target == "/slow") {
                  in_handler = true;
                  absl::SleepFor(absl::Milliseconds(500));
                }
                return HttpResponse{.body = req.target};
              });
  absl::StatusOr<std::unique_ptr<shim::SSLSocket>> idle =
      pki_.Connect(server_->port());
  ASSERT_THAT(idle, IsOk());
  ASSERT_THAT((*idle)->sendall("GET /idle HTTP/1.1\r\nHost: x\r\n\r\n"), IsOk());
  ASSERT_THAT(ReadResponse(**idle), IsOk());
  absl::StatusOr<std::unique_ptr<shim::SSLSocket>> busy =
      pki_.Connect(server_->port());
  ASSERT_THAT(busy, IsOk());
  ASSERT_THAT((*busy)->sendall("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n"), IsOk());
  ASSERT_TRUE(WaitUntil([&] { return in_handler.load(); }));
  const int port = server_->port();
  std::thread stopper([&] { server_->Shutdown(absl::Seconds(5)); });
  absl::StatusOr<TestResponse> r = ReadResponse(**busy);
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(r->body, "/slow");
  EXPECT_TRUE(r->closes);
  EXPECT_EQ(ReadUntilClosed(**idle), "");
  stopper.join();
  EXPECT_FALSE(ConnectTcp("127.0.0.1", port, absl::Seconds(1)).ok());
  ASSERT_TRUE(log_.WaitFor(2));
  for (const ConnectionEvent& e : log_.Events()) {
    EXPECT_EQ(e.close_reason, CloseReason::kShutdown);
  }
}

// Shutdown force-closes a connection still busy at the deadline.
TEST_F(HttpsServerTest, ShutdownForceClosesAtDeadline) {
  HttpsServerOptions options;
  StartServer(/*mutual=*/false, options);
  absl::StatusOr<std::unique_ptr<shim::SSLSocket>> c =
      pki_.Connect(server_->port());
  ASSERT_THAT(c, IsOk());
  ASSERT_THAT((*c)->sendall("GET /partial HTTP/1.1\r\nHost:"), IsOk());
  ASSERT_TRUE(WaitUntil([&] { return server_->Stats().handshakes_ok == 1; }));
  absl::SleepFor(absl::Milliseconds(50));
  const absl::Time start = absl::Now();
  server_->Shutdown(absl::Milliseconds(300));
  const absl::Duration took = absl::Now() - start;
  EXPECT_GE(took, absl::Milliseconds(250));
  EXPECT_LT(took, absl::Seconds(3));
  EXPECT_EQ(ReadUntilClosed(**c), "");
  EXPECT_EQ(server_->Stats().connections_open, 0u);
}

// Rotation: a provider over readers serves the new certificate on the next
// connection.
TEST_F(HttpsServerTest, WrapArgsProviderSeesRotation) {
  const auto& pki = sslshim::testing::SharedTestPki(
      sslshim::testing::KeyType::kP256);
  sslshim::testing::CertSpec spec{.common_name = "rotated",
                                  .dns_names = {"localhost"},
                                  .ip_addresses = {"127.0.0.1"}};
  static const sslshim::testing::Issued* rotated =
      new sslshim::testing::Issued(sslshim::testing::Issue(
          spec, sslshim::testing::KeyType::kP256, &pki.intermediate));
  std::atomic<int> generation{0};
  auto pick = [&](bool key) {
    return [&, key]() -> absl::StatusOr<std::string> {
      if (generation == 0) {
        return key ? pki.server.KeyPem() : pki.ServerChainPem();
      }
      return key ? rotated->KeyPem()
                 : rotated->CertPem() + pki.intermediate.CertPem();
    };
  };
  HttpsServerOptions options;
  options.threads = 1;
  absl::StatusOr<std::unique_ptr<HttpsServer>> s = HttpsServer::Start(
      options,
      WrapArgsContextProvider(
          {.keyfile = shim::CallableReader("key", pick(true)),
           .certfile = shim::CallableReader("cert", pick(false))}),
      EchoHandler());
  ASSERT_THAT(s, IsOk());
  server_ = *std::move(s);
  auto peer_cn = [&]() -> std::string {
    absl::StatusOr<std::unique_ptr<shim::SSLSocket>> c =
        pki_.Connect(server_->port());
    if (!c.ok()) return c.status().ToString();
    absl::StatusOr<shim::PyValue> cert = (*c)->getpeercert();
    if (!cert.ok()) return cert.status().ToString();
    return cert->Get("subject")->items()[0].items()[0].items()[1].str();
  };
  EXPECT_EQ(peer_cn(), "localhost");
  generation = 1;
  EXPECT_EQ(peer_cn(), "rotated");
}

// A provider failure closes that connection and is reported.
TEST_F(HttpsServerTest, ProviderErrorClosesConnection) {
  class Failing : public ContextProvider {
    absl::StatusOr<std::shared_ptr<shim::SSLContext>> Current() override {
      return absl::UnavailableError("store down");
    }
  };
  HttpsServerOptions options;
  options.on_connection_closed = log_.Callback();
  absl::StatusOr<std::unique_ptr<HttpsServer>> s = HttpsServer::Start(
      options, std::make_shared<Failing>(), EchoHandler());
  ASSERT_THAT(s, IsOk());
  server_ = *std::move(s);
  EXPECT_FALSE(pki_.Connect(server_->port()).ok());
  ASSERT_TRUE(log_.WaitFor(1));
  EXPECT_EQ(log_.Events()[0].close_reason, CloseReason::kContextError);
  EXPECT_THAT(log_.Events()[0].error, HasSubstr("store down"));
}

TEST(HttpsServerStartTest, BadArguments) {
  ServerPki pki = ServerPki::Make();
  EXPECT_FALSE(HttpsServer::Start({}, nullptr, EchoHandler()).ok());
  EXPECT_FALSE(
      HttpsServer::Start({}, FixedContextProvider(pki.ServerContext(false)),
                         nullptr)
          .ok());
  HttpsServerOptions bad_host;
  bad_host.host = "not-an-ip";
  EXPECT_FALSE(HttpsServer::Start(bad_host,
                                  FixedContextProvider(pki.ServerContext(false)),
                                  EchoHandler())
                   .ok());
}

TEST(ConnectionEventTest, JsonHasTheFields) {
  ConnectionEvent e;
  e.id = 7;
  e.peer = "127.0.0.1:1";
  e.error_kind = shim::ErrorKind::kSSLCertVerificationError;
  e.verify_code = 20;
  e.verify_message = "unable to get local issuer certificate";
  e.error = "quote \" here";
  e.close_reason = CloseReason::kHandshakeFailed;
  EXPECT_EQ(e.ToJson(),
            "{\"id\":7,\"peer\":\"127.0.0.1:1\",\"handshake\":\"failed\","
            "\"error_kind\":\"SSLCertVerificationError\",\"verify_code\":20,"
            "\"verify_message\":\"unable to get local issuer certificate\","
            "\"error\":\"quote \\\" here\",\"close_reason\":\"handshake_failed\","
            "\"bytes_in\":0,\"bytes_out\":0,\"requests\":0,\"duration_ms\":0}");
}

}  // namespace
}  // namespace sslshim::runtime
