// echo_server.h
// -----------------------------------------------------------------------------
// EchoServer: a raw TLS echo server over the facade (`sslshim serve --echo`).
// Every connection gets a thread: wrap_socket with the provider's current
// context, handshake, then send back every byte received until the client
// closes. Each finished connection is reported as a ConnectionEvent (the same
// fields the HTTPS server reports).
//
//   absl::StatusOr<std::unique_ptr<EchoServer>> s = EchoServer::Start(
//       {.host = "127.0.0.1", .port = 0}, provider,
//       [](const ConnectionEvent& e) { std::cout << e.ToJson() << "\n"; });
//   std::cout << "PORT " << (*s)->port() << "\n";
//   ...
//   (*s)->Shutdown();

#ifndef SSLSHIM_RUNTIME_CLI_ECHO_SERVER_H_
#define SSLSHIM_RUNTIME_CLI_ECHO_SERVER_H_

#include <atomic>
#include <cstdint>
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
#include "runtime/net.h"

namespace sslshim::runtime::cli {

// EchoServerOptions configures an EchoServer.
struct EchoServerOptions {
  std::string host = "127.0.0.1";
  int port = 0;
  // Bounds the handshake and every read/write; an idle client is closed
  // (close_reason idle_timeout) after this long.
  absl::Duration timeout = absl::Seconds(30);
};

class EchoServer {
 public:
  // Start listens and starts accepting. `provider` (shared) is asked for a
  // context per connection; `on_event` (thread-safe; may be empty) receives
  // one event per finished connection, from connection threads. Errors:
  // TcpListener::Listen's.
  static absl::StatusOr<std::unique_ptr<EchoServer>> Start(
      EchoServerOptions options, std::shared_ptr<ContextProvider> provider,
      std::function<void(const ConnectionEvent&)> on_event);

  // The destructor calls Shutdown().
  ~EchoServer();

  int port() const { return listener_.port(); }

  // Shutdown stops accepting, and waits for open connections to finish
  // (each ends at the latest at its timeout). Idempotent.
  void Shutdown();

 private:
  EchoServer(EchoServerOptions options, TcpListener listener,
             std::shared_ptr<ContextProvider> provider,
             std::function<void(const ConnectionEvent&)> on_event)
      : options_(std::move(options)),
        listener_(std::move(listener)),
        provider_(std::move(provider)),
        on_event_(std::move(on_event)) {}
  void AcceptLoop();
  void Serve(int fd, uint64_t id);

  const EchoServerOptions options_;
  TcpListener listener_;
  const std::shared_ptr<ContextProvider> provider_;
  const std::function<void(const ConnectionEvent&)> on_event_;
  std::atomic<bool> stop_{false};
  std::thread acceptor_;
  std::mutex mu_;  // Guards connections_.
  std::vector<std::thread> connections_;
};

}  // namespace sslshim::runtime::cli

#endif  // SSLSHIM_RUNTIME_CLI_ECHO_SERVER_H_
