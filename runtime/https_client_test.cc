// Tests for HttpsClient against real peers on 127.0.0.1: a Python
// `http.server` wrapped in `ssl` (one-way and mutual TLS), `openssl s_server
// -www`, and a scripted TCP/TLS server thread for the malformed, slow,
// chunked, truncated and redirecting responses.

#include "runtime/https_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "runtime/net.h"
#include "shim/ssl.h"
#include "testing/cert_builder.h"
#include "testing/fd_count.h"
#include "testing/status_matchers.h"
#include "tests/interop/subprocess.h"

namespace sslshim::runtime {
namespace {

using ::sslshim::interop::Subprocess;
using ::sslshim::testing::IsOk;
using ::sslshim::testing::KeyType;
using ::sslshim::testing::OpenFdCount;
using ::sslshim::testing::SharedTestPki;
using ::sslshim::testing::StatusIs;
using ::sslshim::testing::TestPki;
using ::testing::AllOf;
using ::testing::AnyOf;
using ::testing::HasSubstr;
using ::testing::StartsWith;
namespace ssl = ::sslshim::shim;

std::string TmpDir() {
  const char* d = std::getenv("TEST_TMPDIR");
  return d != nullptr ? d : "/tmp";
}

std::string WriteFile(const std::string& name, const std::string& content) {
  const std::string path = absl::StrCat(TmpDir(), "/", name);
  std::ofstream(path, std::ios::binary | std::ios::trunc) << content;
  return path;
}

const TestPki& Pki() { return SharedTestPki(KeyType::kP256); }

// A second PKI the client does not trust.
const TestPki& OtherPki() {
  static const TestPki* pki = new TestPki(TestPki::Make(KeyType::kP256));
  return *pki;
}

// --- Python ssl + http.server peer -------------------------------------------

constexpr char kPythonServer[] = R"PY(
import http.server, json, ssl, sys
certfile, keyfile = sys.argv[1], sys.argv[2]
cafile = sys.argv[3] if len(sys.argv) > 3 else None

class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    def handle_any(self):
        n = int(self.headers.get('Content-Length') or 0)
        body = self.rfile.read(n).decode('latin-1')
        cert = self.connection.getpeercert()
        subject = dict(rdn[0] for rdn in cert['subject']) if cert else None
        out = json.dumps({'method': self.command, 'path': self.path,
                          'headers': list(self.headers.items()), 'body': body,
                          'client_subject': subject}).encode()
        self.send_response(200)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(out)))
        self.send_header('Connection', 'close')
        self.end_headers()
        if self.command != 'HEAD':
            self.wfile.write(out)
        self.close_connection = True
    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_HEAD = handle_any
    def log_message(self, *args):
        pass

ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(certfile, keyfile)
if cafile:
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.load_verify_locations(cafile)
server = http.server.HTTPServer(('127.0.0.1', 0), Handler)
server.socket = ctx.wrap_socket(server.socket, server_side=True)
print('PORT', server.server_address[1], flush=True)
server.serve_forever()
)PY";

// PortAfter parses the decimal port that follows `marker` in `out`.
int PortAfter(const std::string& out, absl::string_view marker) {
  size_t at = out.find(std::string(marker));
  if (at == std::string::npos) return 0;
  at += marker.size();
  size_t end = out.find_first_not_of("0123456789", at);
  int port = 0;
  return absl::SimpleAtoi(out.substr(at, end - at), &port) ? port : 0;
}

struct PythonServer {
  std::unique_ptr<Subprocess> process;
  int port = 0;

  // Start runs the server with `leaf` (its chain is leaf + `pki`'s
  // intermediate); `mutual` demands a client certificate from `pki`'s root.
  static PythonServer Start(const TestPki& pki, const ::sslshim::testing::Issued& leaf,
                            bool mutual, const std::string& tag) {
    PythonServer s;
    const std::string script = WriteFile("https_client_server.py", kPythonServer);
    const std::string chain =
        WriteFile(tag + "_chain.pem", leaf.CertPem() + pki.intermediate.CertPem());
    const std::string key = WriteFile(tag + "_key.pem", leaf.KeyPem());
    std::vector<std::string> argv = {"/usr/bin/python3", script, chain, key};
    if (mutual) argv.push_back(WriteFile(tag + "_ca.pem", pki.RootPem()));
    auto p = Subprocess::Start(argv, "", absl::Seconds(120));
    EXPECT_THAT(p, IsOk());
    if (!p.ok()) return s;
    s.process = *std::move(p);
    auto out = s.process->WaitForOutput("\n", absl::Seconds(20));
    EXPECT_THAT(out, IsOk()) << s.process->err();
    if (out.ok()) s.port = PortAfter(*out, "PORT ");
    EXPECT_GT(s.port, 0);
    return s;
  }

  std::string Url(absl::string_view host = "127.0.0.1",
                  absl::string_view path = "/") const {
    return absl::StrCat("https://", host, ":", port, path);
  }
};

// --- Scripted TCP/TLS server thread -------------------------------------------

// Step is one write of a scripted response, then a pause.
struct Step {
  std::string data;
  absl::Duration pause = absl::ZeroDuration();
};
// Script answers a request (the raw head and body) with steps; the server
// closes the connection after the last.
using Script = std::function<std::vector<Step>(const std::string& request)>;

class ScriptServer {
 public:
  // tls: serve TLS with Pki().server (chain) instead of plain TCP.
  // host: the loopback address to listen on ("127.0.0.1" or "::1").
  explicit ScriptServer(Script script, bool tls = false, std::string host = "127.0.0.1")
      : script_(std::move(script)), host_(std::move(host)) {
    auto listener = TcpListener::Listen(host_, 0);
    EXPECT_THAT(listener, IsOk());
    listener_ = std::make_unique<TcpListener>(*std::move(listener));
    if (tls) {
      auto ctx = ssl::SSLContext::Create(ssl::PROTOCOL_TLS_SERVER);
      EXPECT_THAT(ctx, IsOk());
      ctx_ = *ctx;
      EXPECT_OK(ctx_->load_cert_chain(ssl::StringIO(Pki().ServerChainPem()),
                                      ssl::StringIO(Pki().server.KeyPem())));
    }
    thread_ = std::thread([this] { Run(); });
  }
  ~ScriptServer() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

  int port() const { return listener_->port(); }
  std::string Url(absl::string_view path = "/") const {
    const std::string host = host_ == "::1" ? "[::1]" : host_;
    return absl::StrCat(ctx_ ? "https" : "http", "://", host, ":", port(), path);
  }

  // WaitHandled waits until `n` connections were answered and closed.
  bool WaitHandled(int n) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(10), [&] { return handled_ >= n; });
  }
  // requests returns every request received so far.
  std::vector<std::string> requests() {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }

 private:
  bool Stopped() {
    std::lock_guard<std::mutex> lock(mu_);
    return stop_;
  }
  // Pause sleeps up to `d`, waking early at shutdown.
  void Pause(absl::Duration d) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, std::chrono::microseconds(absl::ToInt64Microseconds(d)),
                 [&] { return stop_; });
  }

  void Run() {
    while (!Stopped()) {
      absl::StatusOr<int> fd = listener_->Accept(absl::Milliseconds(50));
      if (!fd.ok()) continue;
      Serve(*fd);
      std::lock_guard<std::mutex> lock(mu_);
      ++handled_;
      cv_.notify_all();
    }
  }

  void Serve(int fd) {
    std::unique_ptr<ssl::SSLSocket> tls;
    if (ctx_ != nullptr) {
      auto s =
          ctx_->wrap_socket(fd, {.server_side = true, .do_handshake_on_connect = false});
      if (!s.ok()) return;  // fd closed by wrap_socket.
      tls = *std::move(s);
      if (!tls->settimeout(absl::Seconds(5)).ok() || !tls->do_handshake().ok()) return;
    } else {
      timeval tv{5, 0};
      setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    }
    auto read = [&]() -> std::string {
      if (tls) return tls->recv(4096).value_or("");
      char buf[4096];
      ssize_t n = recv(fd, buf, sizeof(buf), 0);
      return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
    };
    auto write = [&](const std::string& data) {
      if (tls) {
        (void)tls->sendall(data);
      } else {
        (void)send(fd, data.data(), data.size(), MSG_NOSIGNAL);
      }
    };
    std::string request;
    size_t head_end;
    while ((head_end = request.find("\r\n\r\n")) == std::string::npos) {
      std::string more = read();
      if (more.empty()) break;
      request += more;
    }
    if (head_end != std::string::npos) {
      size_t length = 0;
      const size_t cl = request.find("Content-Length: ");
      if (cl != std::string::npos && cl < head_end) {
        absl::SimpleAtoi(request.substr(cl + 16, request.find("\r\n", cl) - cl - 16),
                         &length);
      }
      while (request.size() < head_end + 4 + length) {
        std::string more = read();
        if (more.empty()) break;
        request += more;
      }
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      requests_.push_back(request);
    }
    for (const Step& step : script_(request)) {
      write(step.data);
      Pause(step.pause);
      if (Stopped()) break;
    }
    if (!tls) close(fd);
  }

  Script script_;
  std::string host_;
  std::unique_ptr<TcpListener> listener_;
  std::shared_ptr<ssl::SSLContext> ctx_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  int handled_ = 0;
  std::vector<std::string> requests_;
  std::thread thread_;
};

// Reply returns a script that always sends `wire`.
Script Reply(std::string wire) {
  return [wire](const std::string&) { return std::vector<Step>{{wire}}; };
}

// RequestLine returns the first line of a raw request.
std::string RequestLine(const std::string& request) {
  return request.substr(0, request.find("\r\n"));
}

HttpsClient Client() {
  return HttpsClient({.verify = true, .ca_bundle = ssl::StringIO(Pki().RootPem())});
}

// --- Python server: verification, methods, mutual TLS -------------------------

class PythonServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    one_way_ =
        new PythonServer(PythonServer::Start(Pki(), Pki().server, false, "oneway"));
  }
  static void TearDownTestSuite() {
    delete one_way_;
    one_way_ = nullptr;
  }
  static PythonServer* one_way_;
};
PythonServer* PythonServerTest::one_way_ = nullptr;

TEST_F(PythonServerTest, VerifyWithCaReaderEchoesRequest) {
  const int fds = OpenFdCount();
  HttpsClient client;  // No defaults: the request's verify is explicit.
  ASSERT_OK_AND_ASSIGN(
      ClientResponse r,
      client.Fetch({.method = "POST",
                    .url = one_way_->Url("localhost", "/items?x=1"),
                    .headers = {{"X-Trace", "abc"}, {"Content-Type", "text/plain"}},
                    .body = "hello body",
                    .verify = ssl::StringIO(Pki().RootPem()),
                    .timeout = absl::Seconds(10)}));
  EXPECT_EQ(r.status_code, 200);
  EXPECT_EQ(r.reason, "OK");
  EXPECT_EQ(r.http_version, "HTTP/1.1");
  EXPECT_EQ(r.headers.Get("content-type"), "application/json");
  EXPECT_THAT(r.body, HasSubstr(R"("method": "POST")"));
  EXPECT_THAT(r.body, HasSubstr(R"("path": "/items?x=1")"));
  EXPECT_THAT(r.body, HasSubstr(R"(["X-Trace", "abc"])"));
  EXPECT_THAT(r.body,
              HasSubstr(absl::StrCat(R"(["Host", "localhost:)", one_way_->port, "\"]")));
  EXPECT_THAT(r.body, HasSubstr(R"("body": "hello body")"));
  EXPECT_THAT(r.body, HasSubstr(R"("client_subject": null)"));
  EXPECT_EQ(r.tls_version, "TLSv1.3");
  EXPECT_FALSE(r.cipher.empty());
  EXPECT_EQ(ssl::SubjectCommonName(r.peer_cert), "localhost");
  EXPECT_FALSE(r.peer_cert_der.empty());
  EXPECT_GT(r.elapsed, absl::ZeroDuration());
  EXPECT_EQ(OpenFdCount(), fds);
}

TEST_F(PythonServerTest, EveryMethod) {
  for (const char* method : {"GET", "PUT", "DELETE", "PATCH", "OPTIONS"}) {
    ASSERT_OK_AND_ASSIGN(ClientResponse r,
                         Client().Fetch({.method = method, .url = one_way_->Url()}));
    EXPECT_THAT(r.body, HasSubstr(absl::StrCat("\"method\": \"", method, "\"")));
  }
  ASSERT_OK_AND_ASSIGN(ClientResponse head,
                       Client().Fetch({.method = "HEAD", .url = one_way_->Url()}));
  EXPECT_EQ(head.status_code, 200);
  EXPECT_EQ(head.body, "");
  EXPECT_TRUE(head.headers.Contains("Content-Length"));
}

TEST_F(PythonServerTest, VerifyWithCaPathAndWithDefaults) {
  const std::string ca = WriteFile("root.pem", Pki().RootPem());
  EXPECT_THAT(HttpsClient().Fetch({.url = one_way_->Url(), .verify = ca}), IsOk());
  // Unset verify takes the defaults.
  EXPECT_THAT(Client().Fetch({.url = one_way_->Url()}), IsOk());
  HttpsClient untrusting(
      {.verify = true, .ca_bundle = ssl::StringIO(OtherPki().RootPem())});
  EXPECT_THAT(untrusting.Fetch({.url = one_way_->Url()}),
              StatusIs(absl::StatusCode::kUnauthenticated));
  HttpsClient off({.verify = false});
  EXPECT_THAT(off.Fetch({.url = one_way_->Url()}), IsOk());
  // An explicit verify wins over the defaults, both ways.
  EXPECT_THAT(
      off.Fetch({.url = one_way_->Url(), .verify = ssl::StringIO(OtherPki().RootPem())}),
      StatusIs(absl::StatusCode::kUnauthenticated));
  EXPECT_THAT(untrusting.Fetch({.url = one_way_->Url(), .verify = false}), IsOk());
}

TEST_F(PythonServerTest, UntrustedServerFailsWithVerifyCode) {
  const int fds = OpenFdCount();
  const std::string url = one_way_->Url();
  absl::StatusOr<ClientResponse> r =
      HttpsClient().Fetch({.url = url, .verify = ssl::StringIO(OtherPki().RootPem())});
  EXPECT_THAT(r,
              StatusIs(absl::StatusCode::kUnauthenticated,
                       AllOf(StartsWith(absl::StrCat("GET ", url, ": TLS handshake: ")),
                             HasSubstr("CERTIFICATE_VERIFY_FAILED"))));
  EXPECT_EQ(ssl::GetErrorKind(r.status()), ssl::ErrorKind::kSSLCertVerificationError);
  EXPECT_EQ(ssl::GetVerifyCode(r.status()), 20);  // UNABLE_TO_GET_ISSUER_CERT_LOCALLY
  EXPECT_EQ(ssl::GetVerifyMessage(r.status()), "unable to get local issuer certificate");
  EXPECT_EQ(OpenFdCount(), fds);
}

TEST_F(PythonServerTest, VerifyFalseStillReportsTheCertificate) {
  ASSERT_OK_AND_ASSIGN(ClientResponse r,
                       HttpsClient().Fetch({.url = one_way_->Url(), .verify = false}));
  EXPECT_EQ(r.status_code, 200);
  EXPECT_EQ(ssl::SubjectCommonName(r.peer_cert), "localhost");
}

TEST_F(PythonServerTest, VerifyOnWithoutBundleIsAClearError) {
  EXPECT_THAT(HttpsClient().Fetch({.url = one_way_->Url()}),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("no CA bundle")));
}

TEST(WrongHostnameTest, NameAndIpMismatchFail) {
  ::sslshim::testing::CertSpec spec{.common_name = "wrong.test",
                                    .dns_names = {"wrong.test"}};
  ::sslshim::testing::Issued wrong =
      ::sslshim::testing::Issue(spec, KeyType::kP256, &Pki().intermediate);
  PythonServer server = PythonServer::Start(Pki(), wrong, false, "wrong");
  const int fds = OpenFdCount();
  absl::StatusOr<ClientResponse> by_name =
      Client().Fetch({.url = server.Url("localhost")});
  EXPECT_THAT(by_name, StatusIs(absl::StatusCode::kUnauthenticated,
                                AllOf(HasSubstr("localhost"), HasSubstr("mismatch"))));
  absl::StatusOr<ClientResponse> by_ip = Client().Fetch({.url = server.Url("127.0.0.1")});
  EXPECT_THAT(by_ip, StatusIs(absl::StatusCode::kUnauthenticated,
                              AllOf(HasSubstr("127.0.0.1"), HasSubstr("mismatch"))));
  // verify=false also turns off the hostname check.
  EXPECT_THAT(Client().Fetch({.url = server.Url("localhost"), .verify = false}), IsOk());
  EXPECT_EQ(OpenFdCount(), fds);
}

TEST(MutualTlsTest, ClientCertFromReaders) {
  PythonServer server = PythonServer::Start(Pki(), Pki().server, true, "mutual");
  const int fds = OpenFdCount();
  ASSERT_OK_AND_ASSIGN(
      ClientResponse r,
      Client().Fetch({.url = server.Url("localhost", "/whoami"),
                      .cert = {.cert = ssl::StringIO(Pki().ClientChainPem()),
                               .key = ssl::StringIO(Pki().client.KeyPem())}}));
  EXPECT_EQ(r.status_code, 200);
  EXPECT_THAT(r.body, HasSubstr(R"("commonName": "client.test")"));
  // An encrypted key with its password.
  ASSERT_OK_AND_ASSIGN(
      ClientResponse encrypted,
      Client().Fetch({.url = server.Url(),
                      .cert = {.cert = ssl::StringIO(Pki().ClientChainPem()),
                               .key = ssl::StringIO(Pki().client.KeyPemEncrypted("pw")),
                               .password = ssl::Password::Of("pw")}}));
  EXPECT_THAT(encrypted.body, HasSubstr("client.test"));
  // Without a certificate the server refuses the handshake.
  absl::StatusOr<ClientResponse> refused = Client().Fetch({.url = server.Url()});
  EXPECT_FALSE(refused.ok());
  EXPECT_THAT(std::string(refused.status().message()),
              AllOf(HasSubstr(server.Url()), HasSubstr("CERTIFICATE_REQUIRED")));
  // A key that does not match is refused before connecting.
  EXPECT_THAT(Client().Fetch({.url = server.Url(),
                              .cert = {.cert = ssl::StringIO(Pki().ClientChainPem()),
                                       .key = ssl::StringIO(Pki().server.KeyPem())}}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("cert")));
  EXPECT_EQ(OpenFdCount(), fds);
}

// --- openssl s_server -www: a raw HTTP/1.0 response read until close ---------

TEST(OpensslServerTest, WwwResponseReadUntilClose) {
  const TestPki& pki = Pki();
  const std::string leaf = WriteFile("ossl_leaf.pem", pki.server.CertPem());
  const std::string inter = WriteFile("ossl_inter.pem", pki.intermediate.CertPem());
  const std::string key = WriteFile("ossl_key.pem", pki.server.KeyPem());
  ASSERT_OK_AND_ASSIGN(
      auto server, Subprocess::Start({"/usr/bin/openssl", "s_server", "-accept",
                                      "127.0.0.1:0", "-naccept", "1", "-www", "-cert",
                                      leaf, "-cert_chain", inter, "-key", key},
                                     "", absl::Seconds(60), /*keep_stdin_open=*/true));
  ASSERT_OK_AND_ASSIGN(std::string out,
                       server->WaitForOutput("ACCEPT 127.0.0.1:", absl::Seconds(20)));
  const int port = PortAfter(out, "ACCEPT 127.0.0.1:");
  ASSERT_GT(port, 0) << out;
  const int fds = OpenFdCount();
  ASSERT_OK_AND_ASSIGN(
      ClientResponse r,
      Client().Fetch({.url = absl::StrCat("https://localhost:", port, "/")}));
  EXPECT_EQ(r.status_code, 200);
  EXPECT_EQ(r.http_version, "HTTP/1.0");
  EXPECT_THAT(r.body, HasSubstr("s_server"));
  EXPECT_EQ(r.tls_version, "TLSv1.3");
  EXPECT_EQ(OpenFdCount(), fds);
}

// --- Scripted server: framing, errors, timeouts -------------------------------

TEST(ScriptedTest, RequestOnTheWire) {
  ScriptServer server(Reply("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"));
  ASSERT_OK_AND_ASSIGN(
      ClientResponse r,
      HttpsClient().Fetch({.method = "PUT",
                           .url = server.Url("/a/b?c=d"),
                           .headers = {{"X-One", "1"}, {"user-agent", "mine/2"}},
                           .body = "xyz"}));
  EXPECT_EQ(r.status_code, 200);
  EXPECT_EQ(r.peer_cert, ssl::PyValue());  // None for http://.
  EXPECT_EQ(r.tls_version, "");
  ASSERT_TRUE(server.WaitHandled(1));
  EXPECT_EQ(server.requests()[0],
            absl::StrCat("PUT /a/b?c=d HTTP/1.1\r\nHost: 127.0.0.1:", server.port(),
                         "\r\nUser-Agent: mine/2\r\nAccept: */*\r\nConnection: close\r\n"
                         "X-One: 1\r\nContent-Length: 3\r\n\r\nxyz"));
}

TEST(ScriptedTest, ChunkedInterimAndNoBodyStatuses) {
  ScriptServer server([](const std::string& request) {
    const std::string line = RequestLine(request);
    if (absl::StrContains(line, "/chunked")) {
      return std::vector<Step>{{"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 "
                                "OK\r\nTransfer-Encoding: chunked\r\n\r\n"},
                               {"4\r\nabcd\r\n", absl::Milliseconds(20)},
                               {"3\r\nefg\r\n0\r\n\r\n"}};
    }
    if (absl::StrContains(line, "/204")) {
      return std::vector<Step>{{"HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n"}};
    }
    return std::vector<Step>{{"HTTP/1.1 304 Not Modified\r\nETag: x\r\n\r\n"}};
  });
  ASSERT_OK_AND_ASSIGN(ClientResponse chunked,
                       HttpsClient().Fetch({.url = server.Url("/chunked")}));
  EXPECT_EQ(chunked.status_code, 200);
  EXPECT_EQ(chunked.body, "abcdefg");
  ASSERT_OK_AND_ASSIGN(ClientResponse r204,
                       HttpsClient().Fetch({.url = server.Url("/204")}));
  EXPECT_EQ(r204.status_code, 204);
  EXPECT_EQ(r204.body, "");
  ASSERT_OK_AND_ASSIGN(ClientResponse r304,
                       HttpsClient().Fetch({.url = server.Url("/304")}));
  EXPECT_EQ(r304.status_code, 304);
  EXPECT_EQ(r304.headers.Get("etag"), "x");
}

TEST(ScriptedTest, ProtocolErrors) {
  struct Case {
    const char* wire;
    absl::StatusCode code;
    const char* message;
  } cases[] = {
      {"HTTP/1.1 2x0 OK\r\n\r\n", absl::StatusCode::kDataLoss, "HPE_INVALID_STATUS"},
      {"garbage\r\n\r\n", absl::StatusCode::kDataLoss, "malformed HTTP response"},
      {"HTTP/1.1 200 OK\r\nNo Colon\r\n\r\n", absl::StatusCode::kDataLoss,
       "HPE_INVALID_HEADER_TOKEN"},
      {"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", absl::StatusCode::kDataLoss,
       "premature EOF"},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab",
       absl::StatusCode::kDataLoss, "premature EOF"},
      {"HTTP/1.1 200 OK\r\nContent-Le", absl::StatusCode::kDataLoss, "premature EOF"},
      {"", absl::StatusCode::kUnavailable, "without sending a response"},
      {"HTTP/1.1 200 OK\r\nContent-Length: 2000\r\n\r\n",
       absl::StatusCode::kResourceExhausted, "max_response_bytes"},
  };
  int n = 0;
  for (const Case& c : cases) {
    std::string wire = c.wire;
    if (c.code == absl::StatusCode::kResourceExhausted) wire += std::string(2000, 'x');
    ScriptServer server(Reply(wire));
    const int fds = OpenFdCount();
    const std::string url = server.Url("/p");
    EXPECT_THAT(
        HttpsClient().Fetch({.url = url, .max_response_bytes = 1000}),
        StatusIs(c.code,
                 AllOf(StartsWith(absl::StrCat("GET ", url, ": reading the response: ")),
                       HasSubstr(c.message))))
        << c.wire;
    ASSERT_TRUE(server.WaitHandled(1));
    EXPECT_EQ(OpenFdCount(), fds) << c.wire;
    ++n;
  }
  EXPECT_EQ(n, 8);
}

TEST(ScriptedTest, TlsReadUntilCloseAndPrematureEof) {
  ScriptServer server(
      [](const std::string& request) {
        if (absl::StrContains(RequestLine(request), "/short")) {
          return std::vector<Step>{
              {"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this"}};
        }
        return std::vector<Step>{{"HTTP/1.0 200 OK\r\n\r\nuntil "}, {"close"}};
      },
      /*tls=*/true);
  ASSERT_OK_AND_ASSIGN(ClientResponse r, Client().Fetch({.url = server.Url("/close")}));
  EXPECT_EQ(r.body, "until close");
  EXPECT_EQ(r.tls_version, "TLSv1.3");
  EXPECT_THAT(Client().Fetch({.url = server.Url("/short")}),
              StatusIs(absl::StatusCode::kDataLoss,
                       HasSubstr("after 9 body bytes; Content-Length announced 100")));
}

TEST(ScriptedTest, ReadTimeout) {
  const int fds = OpenFdCount();
  absl::StatusOr<ClientResponse> r;
  const absl::Time start = absl::Now();
  {
    // The server holds the connection open (its fd counts) until destroyed.
    ScriptServer server([](const std::string&) {
      return std::vector<Step>{{"", absl::Seconds(20)}};
    });
    r = HttpsClient().Fetch({.url = server.Url(), .timeout = absl::Milliseconds(200)});
  }
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kDeadlineExceeded,
                          AllOf(HasSubstr("reading the response"), HasSubstr("timed out"),
                                HasSubstr("200ms"))));
  EXPECT_EQ(ssl::GetErrorKind(r.status()), ssl::ErrorKind::kTimeoutError);
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  EXPECT_EQ(OpenFdCount(), fds);
}

TEST(ScriptedTest, TlsHandshakeTimeout) {
  // A plain TCP server that never speaks TLS: the handshake read times out.
  ScriptServer server([](const std::string&) { return std::vector<Step>{}; });
  const std::string url = absl::StrCat("https://127.0.0.1:", server.port(), "/");
  absl::StatusOr<ClientResponse> r =
      Client().Fetch({.url = url, .timeout = absl::Milliseconds(300)});
  EXPECT_THAT(r,
              StatusIs(absl::StatusCode::kDeadlineExceeded, HasSubstr("TLS handshake")));
  EXPECT_EQ(ssl::GetErrorKind(r.status()), ssl::ErrorKind::kTimeoutError);
}

TEST(ScriptedTest, OverallDeadline) {
  ScriptServer server([](const std::string&) {
    std::vector<Step> steps = {{"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"}};
    for (int i = 0; i < 100; ++i) steps.push_back({"x", absl::Milliseconds(50)});
    return steps;
  });
  const absl::Time start = absl::Now();
  absl::StatusOr<ClientResponse> r =
      HttpsClient().Fetch({.url = server.Url(),
                           .timeout = absl::Seconds(2),
                           .deadline = absl::Milliseconds(400)});
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kDeadlineExceeded,
                          HasSubstr("overall deadline of 400ms exceeded")));
  EXPECT_EQ(ssl::GetErrorKind(r.status()), ssl::ErrorKind::kTimeoutError);
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));
}

// --- Redirects ------------------------------------------------------------------

Script Redirector() {
  return [](const std::string& request) {
    const std::string line = RequestLine(request);
    auto redirect = [](int code, const std::string& to) {
      return std::vector<Step>{{absl::StrCat("HTTP/1.1 ", code, " Moved\r\nLocation: ",
                                             to, "\r\nContent-Length: 0\r\n\r\n")}};
    };
    if (absl::StrContains(line, " /r3 ")) return redirect(302, "/r2");
    if (absl::StrContains(line, " /r2 ")) return redirect(301, "r1");
    if (absl::StrContains(line, " /r1 ")) return redirect(308, "/echo");
    if (absl::StrContains(line, " /see-other ")) return redirect(303, "/echo");
    if (absl::StrContains(line, " /temporary ")) return redirect(307, "/echo");
    if (absl::StrContains(line, " /loop-a ")) return redirect(302, "/loop-b");
    if (absl::StrContains(line, " /loop-b ")) return redirect(302, "/loop-a");
    if (absl::StrContains(line, " /bad ")) return redirect(302, "ftp://x/");
    const std::string body = request;
    return std::vector<Step>{{absl::StrCat(
        "HTTP/1.1 200 OK\r\nContent-Length: ", body.size(), "\r\n\r\n", body)}};
  };
}

TEST(RedirectTest, OffByDefault) {
  ScriptServer server(Redirector());
  ASSERT_OK_AND_ASSIGN(ClientResponse r, HttpsClient().Fetch({.url = server.Url("/r3")}));
  EXPECT_EQ(r.status_code, 302);
  EXPECT_EQ(r.headers.Get("Location"), "/r2");
  EXPECT_TRUE(r.history.empty());
  EXPECT_EQ(server.requests().size(), 1u);
}

TEST(RedirectTest, FollowsChainWithHistory) {
  ScriptServer server(Redirector());
  ASSERT_OK_AND_ASSIGN(ClientResponse r, HttpsClient().Fetch({.url = server.Url("/r3"),
                                                              .allow_redirects = true}));
  EXPECT_EQ(r.status_code, 200);
  EXPECT_EQ(r.url, server.Url("/echo"));
  EXPECT_EQ(r.history, (std::vector<std::string>{server.Url("/r3"), server.Url("/r2"),
                                                 server.Url("/r1")}));
  EXPECT_THAT(r.body, StartsWith("GET /echo HTTP/1.1\r\n"));
}

TEST(RedirectTest, MethodAndBodyRules) {
  ScriptServer server(Redirector());
  // 303: POST becomes GET, the body and its headers are dropped.
  ASSERT_OK_AND_ASSIGN(ClientResponse see_other,
                       HttpsClient().Fetch({.method = "POST",
                                            .url = server.Url("/see-other"),
                                            .headers = {{"Content-Type", "text/plain"},
                                                        {"Authorization", "Bearer t"}},
                                            .body = "payload",
                                            .allow_redirects = true}));
  EXPECT_THAT(see_other.body, StartsWith("GET /echo HTTP/1.1\r\n"));
  EXPECT_THAT(see_other.body, ::testing::Not(HasSubstr("payload")));
  EXPECT_THAT(see_other.body, ::testing::Not(HasSubstr("Content-Type")));
  EXPECT_THAT(see_other.body, HasSubstr("Authorization: Bearer t"));  // Same host.
  // 307: method and body are kept.
  ASSERT_OK_AND_ASSIGN(ClientResponse temporary,
                       HttpsClient().Fetch({.method = "POST",
                                            .url = server.Url("/temporary"),
                                            .body = "payload",
                                            .allow_redirects = true}));
  EXPECT_THAT(temporary.body, StartsWith("POST /echo HTTP/1.1\r\n"));
  EXPECT_THAT(temporary.body, HasSubstr("Content-Length: 7\r\n\r\npayload"));
}

TEST(RedirectTest, LoopLimitAndBadLocation) {
  ScriptServer server(Redirector());
  EXPECT_THAT(
      HttpsClient().Fetch({.url = server.Url("/loop-a"), .allow_redirects = true}),
      StatusIs(
          absl::StatusCode::kFailedPrecondition,
          HasSubstr(absl::StrCat("redirect loop: ", server.Url("/loop-a"), " -> ",
                                 server.Url("/loop-b"), " -> ", server.Url("/loop-a")))));
  EXPECT_THAT(
      HttpsClient().Fetch(
          {.url = server.Url("/r3"), .allow_redirects = true, .max_redirects = 2}),
      StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("exceeded 2 redirects")));
  EXPECT_THAT(
      HttpsClient().Fetch({.url = server.Url("/bad"), .allow_redirects = true}),
      StatusIs(absl::StatusCode::kInvalidArgument,
               AllOf(HasSubstr("Location"), HasSubstr("unsupported scheme 'ftp'"))));
}

// --- Connection errors and bad requests ------------------------------------------

TEST(ConnectTest, Ipv6LiteralOverTls) {
  ScriptServer server(Redirector(), /*tls=*/true, "::1");
  ASSERT_OK_AND_ASSIGN(ClientResponse r, Client().Fetch({.url = server.Url("/echo")}));
  EXPECT_EQ(r.status_code, 200);
  // The server certificate has IP SAN ::1; the Host header brackets it.
  EXPECT_THAT(r.body, HasSubstr(absl::StrCat("Host: [::1]:", server.port(), "\r\n")));
}

TEST(ConnectErrorTest, ConnectTimeout) {
  // A listener with a full accept queue drops further SYNs, so a connect
  // to it stays pending until the client gives up.
  int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(listen(listener, 0), 0);
  socklen_t len = sizeof(addr);
  getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len);
  const int port = ntohs(addr.sin_port);
  std::vector<int> fillers;
  for (int i = 0; i < 4; ++i) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    fillers.push_back(fd);
  }
  absl::SleepFor(absl::Milliseconds(100));
  const int fds = OpenFdCount();
  const absl::Time start = absl::Now();
  absl::StatusOr<ClientResponse> r =
      Client().Fetch({.url = absl::StrCat("https://127.0.0.1:", port, "/"),
                      .connect_timeout = absl::Milliseconds(300)});
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kDeadlineExceeded,
                          AllOf(HasSubstr(": connect: connecting to 127.0.0.1:"),
                                HasSubstr("timed out after 300ms"))));
  EXPECT_EQ(ssl::GetErrorKind(r.status()), ssl::ErrorKind::kTimeoutError);
  EXPECT_LT(absl::Now() - start, absl::Seconds(3));
  EXPECT_EQ(OpenFdCount(), fds);
  for (int fd : fillers) close(fd);
  close(listener);
}

TEST(ConnectErrorTest, DnsFailure) {
  const int fds = OpenFdCount();
  absl::StatusOr<ClientResponse> r = Client().Fetch(
      {.url = "https://no-such-host.invalid/x", .timeout = absl::Seconds(5)});
  // NotFound from a resolver that answers NXDOMAIN; Unavailable where no DNS
  // server is reachable at all (EAI_AGAIN).
  EXPECT_THAT(r.status().code(),
              AnyOf(absl::StatusCode::kNotFound, absl::StatusCode::kUnavailable));
  EXPECT_THAT(std::string(r.status().message()),
              AllOf(StartsWith("GET https://no-such-host.invalid/x: connect: "),
                    HasSubstr("cannot resolve host 'no-such-host.invalid'")));
  EXPECT_EQ(OpenFdCount(), fds);
}

TEST(ConnectErrorTest, ConnectionRefused) {
  int port;
  {
    ASSERT_OK_AND_ASSIGN(TcpListener l, TcpListener::Listen("127.0.0.1", 0));
    port = l.port();
  }
  const int fds = OpenFdCount();
  EXPECT_THAT(Client().Fetch({.url = absl::StrCat("https://127.0.0.1:", port, "/")}),
              StatusIs(absl::StatusCode::kUnavailable,
                       AllOf(HasSubstr(absl::StrCat("127.0.0.1:", port)),
                             HasSubstr("Connection refused"))));
  EXPECT_EQ(OpenFdCount(), fds);
}

TEST(BadRequestTest, RefusedBeforeConnecting) {
  HttpsClient client;
  EXPECT_THAT(client.Fetch({.method = "GE T", .url = "http://127.0.0.1:1/"}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("invalid method")));
  EXPECT_THAT(client.Fetch({.url = "https://u:p@127.0.0.1:1/"}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("userinfo")));
  EXPECT_THAT(client.Fetch(
                  {.url = "http://127.0.0.1:1/", .headers = {{"X", "a\r\nInjected: 1"}}}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("CR, LF or NUL")));
  EXPECT_THAT(
      client.Fetch({.url = "http://127.0.0.1:1/", .headers = {{"Bad Name", "a"}}}),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("invalid header name")));
  EXPECT_THAT(
      client.Fetch(
          {.url = "http://127.0.0.1:1/", .headers = {{"Transfer-Encoding", "chunked"}}}),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("Transfer-Encoding")));
  EXPECT_THAT(client.Fetch({.url = "http://127.0.0.1:1/",
                            .headers = {{"Content-Length", "9"}},
                            .body = "abc"}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("does not match")));
}

}  // namespace
}  // namespace sslshim::runtime
