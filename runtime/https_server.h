// https_server.h
// -----------------------------------------------------------------------------
// HttpsServer: an event-driven HTTP/1.1 server over the facade's non-blocking
// SSLSockets (the role of eventlet.wsgi.server over ssl.wrap_socket). One
// epoll loop per thread (default: one per core), no thread per connection;
// keep-alive and pipelining; one-way or mutual TLS from a ContextProvider;
// size limits and timeouts against slow or hostile clients; graceful
// shutdown.
//
//   absl::StatusOr<std::shared_ptr<shim::SSLContext>> ctx =
//       shim::MakeWrapContext({.keyfile = StringIO(key_pem),
//                              .certfile = StringIO(cert_pem),
//                              .server_side = true,
//                              .cert_reqs = shim::CERT_REQUIRED,
//                              .ca_certs = StringIO(ca_pem)});
//   HttpsServerOptions options;           // 127.0.0.1, port 0 = any
//   options.on_connection_closed = [](const ConnectionEvent& e) {
//     std::cout << e.ToJson() << std::endl;
//   };
//   absl::StatusOr<std::unique_ptr<HttpsServer>> server = HttpsServer::Start(
//       options, FixedContextProvider(*ctx),
//       [](const HttpRequest& req) -> absl::StatusOr<HttpResponse> {
//         return HttpResponse{.body = "hello " + req.client->subject + "\n"};
//       });
//   std::cout << "PORT " << (*server)->port() << std::endl;
//   WaitForTerminationSignal();           // termination_signal.h
//   (*server)->Shutdown(absl::Seconds(10));
//
// Threading: Start() launches `threads` event loops that share one listening
// socket (registered with EPOLLEXCLUSIVE, so an incoming connection wakes
// one idle loop; a busy loop simply takes fewer). A connection stays on the
// loop that accepted it. The handler and on_connection_closed run on loop
// threads, possibly concurrently on different loops: they must be
// thread-safe, and must not block (a handler delays every connection of its
// loop while it runs).
//
// Per-connection timers (a min-heap per loop): handshake_timeout from accept
// to a finished handshake; request_timeout from the first byte of a request
// to its last byte, and from a queued response to its last byte written (a
// client sending a byte a second is dropped there, with a 408); idle_timeout
// between keep-alive requests. After a failed handshake or a server-side
// close the server sends close_notify/its alert, half-closes (SHUT_WR) and
// drains the client's bytes for up to linger_timeout before close(2), so the
// client can read the alert instead of a TCP reset.

#ifndef SSLSHIM_RUNTIME_HTTPS_SERVER_H_
#define SSLSHIM_RUNTIME_HTTPS_SERVER_H_

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "runtime/connection_event.h"
#include "runtime/context_provider.h"
#include "runtime/http_request.h"
#include "runtime/request_parser.h"

namespace sslshim::runtime {

namespace server_internal {
struct ServerCore;
class Worker;
}  // namespace server_internal

// HttpsServerOptions configures a server; every field has a safe default.
struct HttpsServerOptions {
  std::string host = "127.0.0.1";  // IPv4 or IPv6 literal.
  int port = 0;                    // 0 picks a free port (see port()).
  int threads = 0;                 // Event loops; 0 = one per core.
  int backlog = 4096;
  // Beyond this many open connections new ones are closed at accept
  // (counted as refused, reported with close_reason max_connections).
  size_t max_connections = 10000;
  RequestLimits limits;  // Header (431) and body (413) limits.
  // 0 = unlimited; otherwise the last allowed response says Connection: close.
  size_t max_requests_per_connection = 0;
  absl::Duration handshake_timeout = absl::Seconds(10);
  absl::Duration request_timeout = absl::Seconds(30);
  absl::Duration idle_timeout = absl::Seconds(60);
  absl::Duration linger_timeout = absl::Seconds(1);
  // Called once per connection when it ends (including refused ones and
  // failed handshakes), on a loop thread; may be empty.
  std::function<void(const ConnectionEvent&)> on_connection_closed;
};

class HttpsServer {
 public:
  // Start listens on host:port and starts the event loops. `provider` is
  // asked for a context at every accepted connection; `handler` serves every
  // request. Errors: InvalidArgument (bad address, null provider/handler,
  // negative timeouts), Unavailable (bind/listen/epoll failures).
  static absl::StatusOr<std::unique_ptr<HttpsServer>> Start(
      HttpsServerOptions options, std::shared_ptr<ContextProvider> provider,
      HttpHandler handler);

  // The destructor shuts down with no grace period (Shutdown(0)).
  ~HttpsServer();
  HttpsServer(const HttpsServer&) = delete;
  HttpsServer& operator=(const HttpsServer&) = delete;

  // port is the bound port (useful with port 0).
  int port() const { return port_; }

  // Stats returns a snapshot of the counters (any thread).
  ServerStats Stats() const;

  // Shutdown stops accepting (the listening socket is closed, queued
  // connections are reset), closes idle keep-alive connections, lets
  // in-flight requests finish (their responses say Connection: close), and
  // force-closes whatever remains when `grace` has passed. Blocks until every
  // loop thread has exited. Idempotent; call from a non-loop thread.
  void Shutdown(absl::Duration grace);

 private:
  HttpsServer() = default;

  std::shared_ptr<server_internal::ServerCore> core_;
  std::vector<std::unique_ptr<server_internal::Worker>> workers_;
  std::vector<std::thread> threads_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::mutex shutdown_mu_;
  bool shut_down_ = false;  // Guarded by shutdown_mu_.
};

}  // namespace sslshim::runtime

#endif  // SSLSHIM_RUNTIME_HTTPS_SERVER_H_
