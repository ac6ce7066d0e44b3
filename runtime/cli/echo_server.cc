#include "runtime/cli/echo_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "openssl/ssl.h"
#include "runtime/cli/cli_common.h"
#include "shim/errors.h"
#include "shim/ssl_socket.h"

namespace sslshim::runtime::cli {
namespace {

std::string PeerName(int fd) {
  sockaddr_storage addr{};
  socklen_t len = sizeof(addr);
  if (getpeername(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return "";
  char host[INET6_ADDRSTRLEN] = "";
  if (addr.ss_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&addr);
    inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
    return absl::StrCat(host, ":", ntohs(in->sin_port));
  }
  const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&addr);
  inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
  return absl::StrCat("[", host, "]:", ntohs(in6->sin6_port));
}

void SetError(const absl::Status& status, ConnectionEvent& e) {
  e.error_kind = shim::GetErrorKind(status);
  e.verify_code = shim::GetVerifyCode(status);
  e.verify_message = shim::GetVerifyMessage(status).value_or("");
  e.error = std::string(status.message());
}

}  // namespace

absl::StatusOr<std::unique_ptr<EchoServer>> EchoServer::Start(
    EchoServerOptions options, std::shared_ptr<ContextProvider> provider,
    std::function<void(const ConnectionEvent&)> on_event) {
  if (provider == nullptr) return absl::InvalidArgumentError("null provider");
  absl::StatusOr<TcpListener> listener = TcpListener::Listen(options.host, options.port);
  if (!listener.ok()) return listener.status();
  std::unique_ptr<EchoServer> server(
      new EchoServer(std::move(options), *std::move(listener), std::move(provider),
                     std::move(on_event)));
  server->acceptor_ = std::thread([s = server.get()] { s->AcceptLoop(); });
  return server;
}

EchoServer::~EchoServer() { Shutdown(); }

void EchoServer::Shutdown() {
  stop_ = true;
  if (acceptor_.joinable()) acceptor_.join();
  std::vector<std::thread> connections;
  {
    std::lock_guard<std::mutex> lock(mu_);
    connections.swap(connections_);
  }
  for (std::thread& t : connections) t.join();
}

void EchoServer::AcceptLoop() {
  uint64_t next_id = 0;
  while (!stop_) {
    absl::StatusOr<int> fd = listener_.Accept(absl::Milliseconds(100));
    if (!fd.ok()) continue;  // Timeout (check stop_) or a transient error.
    std::lock_guard<std::mutex> lock(mu_);
    connections_.emplace_back([this, fd = *fd, id = ++next_id] { Serve(fd, id); });
  }
}

void EchoServer::Serve(int fd, uint64_t id) {
  const absl::Time start = absl::Now();
  ConnectionEvent e;
  e.id = id;
  e.peer = PeerName(fd);
  auto finish = [&](CloseReason reason) {
    e.close_reason = reason;
    e.duration = absl::Now() - start;
    if (on_event_) on_event_(e);
  };
  absl::StatusOr<std::shared_ptr<shim::SSLContext>> ctx = provider_->Current();
  if (!ctx.ok()) {
    close(fd);
    SetError(ctx.status(), e);
    return finish(CloseReason::kContextError);
  }
  absl::StatusOr<std::unique_ptr<shim::SSLSocket>> sock = (*ctx)->wrap_socket(
      fd, {.server_side = true, .do_handshake_on_connect = false});  // Owns fd.
  if (!sock.ok()) {
    SetError(sock.status(), e);
    return finish(CloseReason::kContextError);
  }
  (void)(*sock)->settimeout(options_.timeout);
  if (absl::Status hs = (*sock)->do_handshake(); !hs.ok()) {
    SetError(hs, e);
    return finish(absl::IsDeadlineExceeded(hs) ? CloseReason::kHandshakeTimeout
                                               : CloseReason::kHandshakeFailed);
  }
  e.handshake_ok = true;
  e.version = (*sock)->version().value_or("");
  if (auto cipher = (*sock)->cipher()) e.cipher = cipher->name;
  e.session_reused = (*sock)->session_reused();
  if (absl::StatusOr<shim::PyValue> cert = (*sock)->getpeercert(); cert.ok()) {
    e.peercert = *std::move(cert);
  }
  bssl::UniquePtr<X509> peer(SSL_get_peer_certificate((*sock)->native()));
  e.subject = SubjectRfc2253(peer.get());
  CloseReason reason = CloseReason::kPeerClosed;
  // Reads wait in short slices so Shutdown() is seen promptly.
  (void)(*sock)->settimeout(std::min(options_.timeout, absl::Milliseconds(200)));
  absl::Time last_activity = absl::Now();
  while (true) {
    absl::StatusOr<std::string> data = (*sock)->recv(16384);
    if (!data.ok()) {
      const shim::ErrorKind kind = shim::GetErrorKind(data.status());
      if (kind == shim::ErrorKind::kTimeoutError) {
        if (stop_) {
          reason = CloseReason::kShutdown;
        } else if (absl::Now() - last_activity >= options_.timeout) {
          reason = CloseReason::kIdleTimeout;
        } else {
          continue;
        }
      } else if (kind != shim::ErrorKind::kSSLZeroReturnError &&
                 kind != shim::ErrorKind::kSSLEOFError) {
        SetError(data.status(), e);
        reason = CloseReason::kIoError;
      }
      break;
    }
    last_activity = absl::Now();
    if (data->empty()) break;  // EOF (ragged EOFs suppressed).
    e.bytes_in += data->size();
    if (absl::Status s = (*sock)->sendall(*data); !s.ok()) {
      SetError(s, e);
      reason = CloseReason::kIoError;
      break;
    }
    e.bytes_out += data->size();
  }
  (void)(*sock)->close();
  finish(reason);
}

}  // namespace sslshim::runtime::cli
