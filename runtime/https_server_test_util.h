// https_server_test_util.h (testonly)
// -----------------------------------------------------------------------------
// Helpers for HttpsServer tests: a PKI written to a temp dir for curl and
// Python peers, server contexts (one-way / mutual), a blocking facade client,
// an HTTP response reader, and a thread-safe log of connection events.
//
//   ServerPki pki = ServerPki::Make();
//   auto server = HttpsServer::Start(options, FixedContextProvider(
//       pki.ServerContext(/*mutual=*/false)), EchoHandler());
//   absl::StatusOr<std::unique_ptr<shim::SSLSocket>> c =
//       pki.Connect((*server)->port(), /*with_client_cert=*/false);
//   (*c)->sendall("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
//   absl::StatusOr<TestResponse> r = ReadResponse(**c);

#ifndef SSLSHIM_RUNTIME_HTTPS_SERVER_TEST_UTIL_H_
#define SSLSHIM_RUNTIME_HTTPS_SERVER_TEST_UTIL_H_

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "runtime/connection_event.h"
#include "runtime/http_request.h"
#include "shim/ssl_context.h"
#include "shim/ssl_socket.h"

namespace sslshim::runtime::testing {

// ServerPki: SharedTestPki(P256) plus its PEM files in a fresh temp dir.
struct ServerPki {
  std::string dir;
  std::string ca_path;           // Root CA.
  std::string server_cert_path;  // Server chain.
  std::string server_key_path;
  std::string client_cert_path;  // Client chain.
  std::string client_key_path;

  static ServerPki Make();

  // ServerContext builds a server context (CERT_REQUIRED + CA when mutual).
  std::shared_ptr<shim::SSLContext> ServerContext(bool mutual) const;
  // ClientContext builds a client context trusting the root, with the client
  // certificate when `with_client_cert`.
  std::shared_ptr<shim::SSLContext> ClientContext(bool with_client_cert) const;

  // Connect makes a blocking TLS connection to 127.0.0.1:port (handshake
  // done, 10 s timeout on every call).
  absl::StatusOr<std::unique_ptr<shim::SSLSocket>> Connect(
      int port, bool with_client_cert = false) const;
};

// TestResponse is one parsed HTTP response.
struct TestResponse {
  int status = 0;
  std::string head;  // Status line and headers.
  std::string body;
  bool closes = false;  // "Connection: close" present.
};

// ReadResponse reads one response (Content-Length framed) from `sock`.
// Bytes after it stay in `*leftover` for the next call. Errors: the socket's,
// or DataLoss when the stream ends first.
absl::StatusOr<TestResponse> ReadResponse(shim::SSLSocket& sock,
                                          std::string* leftover = nullptr);

// ReadUntilClosed reads until EOF or error; returns what arrived.
std::string ReadUntilClosed(shim::SSLSocket& sock);

// EchoHandler answers with "<method> <target>\n<body>" and headers
// X-Subject / X-Verified describing the client identity.
HttpHandler EchoHandler();

// EventLog collects ConnectionEvents from loop threads.
class EventLog {
 public:
  std::function<void(const ConnectionEvent&)> Callback();
  std::vector<ConnectionEvent> Events();
  // WaitFor waits until `n` events arrived (up to `timeout`).
  bool WaitFor(size_t n, absl::Duration timeout = absl::Seconds(10));

 private:
  std::mutex mu_;
  std::vector<ConnectionEvent> events_;
};

// WaitUntil polls `pred` every 5 ms until true or `timeout`.
bool WaitUntil(const std::function<bool()>& pred,
               absl::Duration timeout = absl::Seconds(10));

// WriteFile writes `content` to `path` (test files for external peers).
void WriteFile(const std::string& path, const std::string& content);

}  // namespace sslshim::runtime::testing

#endif  // SSLSHIM_RUNTIME_HTTPS_SERVER_TEST_UTIL_H_
