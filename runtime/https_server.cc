#include "runtime/https_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "runtime/https_server_internal.h"
#include "runtime/net.h"

namespace sslshim::runtime {
namespace server_internal {
namespace {

// Connections accepted per wake-up before other events get a turn.
constexpr int kAcceptBatch = 64;

std::string FormatPeer(const sockaddr_storage& addr) {
  char host[INET6_ADDRSTRLEN] = {0};
  if (addr.ss_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&addr);
    inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
    return absl::StrCat(host, ":", ntohs(in->sin_port));
  }
  if (addr.ss_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&addr);
    inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
    return absl::StrCat("[", host, "]:", ntohs(in6->sin6_port));
  }
  return "unknown peer";
}

}  // namespace

Worker::Worker(ServerCore* core, std::unique_ptr<EventLoop> loop, int listen_fd)
    : core_(core), loop_(std::move(loop)), listen_fd_(listen_fd) {
  // EPOLLEXCLUSIVE: one waiting loop is woken per incoming connection.
  accepting_ = loop_->Add(listen_fd_, EPOLLIN | EPOLLEXCLUSIVE, this).ok();
}

Worker::~Worker() = default;

const std::string& Worker::Date() {
  const time_t now = time(nullptr);
  if (now != date_second_) {
    date_second_ = now;
    date_ = absl::FormatTime("%a, %d %b %Y %H:%M:%S GMT",
                             absl::FromTimeT(now), absl::UTCTimeZone());
  }
  return date_;
}

void Worker::OnEvents(uint32_t /*events*/) { AcceptBatch(); }

void Worker::AcceptBatch() {
  for (int i = 0; i < kAcceptBatch && accepting_; ++i) {
    sockaddr_storage addr{};
    socklen_t len = sizeof(addr);
    const int fd = accept4(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len,
                           SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
          errno == ENOMEM) {
        PauseAccepting();  // Level-triggered: would spin otherwise.
      }
      return;  // EAGAIN, or another loop took it.
    }
    ServerCore& core = *core_;
    const uint64_t id = core.next_id.fetch_add(1, std::memory_order_relaxed);
    if (core.stats.connections_open.fetch_add(1, std::memory_order_relaxed) >=
        core.options.max_connections) {
      core.stats.connections_open.fetch_sub(1, std::memory_order_relaxed);
      core.stats.refused.fetch_add(1, std::memory_order_relaxed);
      ::close(fd);
      if (core.options.on_connection_closed) {
        ConnectionEvent e;
        e.id = id;
        e.peer = FormatPeer(addr);
        e.close_reason = CloseReason::kMaxConnections;
        e.error = absl::StrCat("refused: ", core.options.max_connections,
                               " connections open");
        core.options.on_connection_closed(e);
      }
      continue;
    }
    core.stats.accepted.fetch_add(1, std::memory_order_relaxed);
    auto conn = std::make_unique<Connection>(this, id, fd, FormatPeer(addr));
    Connection* raw = conn.get();
    connections_.emplace(raw, std::move(conn));
    raw->Start();
  }
}

void Worker::PauseAccepting() {
  if (!accepting_) return;
  loop_->Remove(listen_fd_);
  accepting_ = false;
  loop_->RunAfter(absl::Milliseconds(100), [this] {
    if (draining_ || accepting_) return;
    accepting_ = loop_->Add(listen_fd_, EPOLLIN | EPOLLEXCLUSIVE, this).ok();
  });
}

void Worker::Release(Connection* connection) {
  auto it = connections_.find(connection);
  if (it == connections_.end()) return;
  loop_->Retire(std::move(it->second));
  connections_.erase(it);
  MaybeStop();
}

void Worker::MaybeStop() {
  if (draining_ && connections_.empty()) loop_->Stop();
}

void Worker::BeginDrain() {
  draining_ = true;
  if (accepting_) loop_->Remove(listen_fd_);
  accepting_ = false;
  // OnDrain may close (and release) connections: iterate over a copy.
  std::vector<Connection*> all;
  all.reserve(connections_.size());
  for (auto& [raw, owned] : connections_) all.push_back(raw);
  for (Connection* c : all) {
    if (connections_.count(c) != 0) c->OnDrain();
  }
  MaybeStop();
}

void Worker::ForceCloseAll() {
  draining_ = true;
  std::vector<Connection*> all;
  for (auto& [raw, owned] : connections_) all.push_back(raw);
  for (Connection* c : all) c->Close(CloseReason::kShutdown);
  loop_->Stop();
}

}  // namespace server_internal

using server_internal::ServerCore;
using server_internal::Worker;

absl::StatusOr<std::unique_ptr<HttpsServer>> HttpsServer::Start(
    HttpsServerOptions options, std::shared_ptr<ContextProvider> provider,
    HttpHandler handler) {
  if (provider == nullptr) {
    return absl::InvalidArgumentError("HttpsServer: no context provider");
  }
  if (!handler) return absl::InvalidArgumentError("HttpsServer: no handler");
  for (absl::Duration d :
       {options.handshake_timeout, options.request_timeout,
        options.idle_timeout, options.linger_timeout}) {
    if (d < absl::ZeroDuration()) {
      return absl::InvalidArgumentError("HttpsServer: negative timeout");
    }
  }
  if (options.threads <= 0) {
    options.threads = std::max(1u, std::thread::hardware_concurrency());
  }
  absl::StatusOr<TcpListener> listener =
      TcpListener::Listen(options.host, options.port, options.backlog);
  if (!listener.ok()) return listener.status();

  std::unique_ptr<HttpsServer> server(new HttpsServer());
  server->port_ = listener->port();
  // Take the fd out of the TcpListener (it would close it on destruction).
  server->listen_fd_ = dup(listener->fd());
  if (server->listen_fd_ < 0) {
    return absl::UnavailableError(
        absl::StrCat("dup(listen fd): ", std::strerror(errno)));
  }
  fcntl(server->listen_fd_, F_SETFD, FD_CLOEXEC);
  const int flags = fcntl(server->listen_fd_, F_GETFL);
  fcntl(server->listen_fd_, F_SETFL, flags | O_NONBLOCK);

  auto core = std::make_shared<ServerCore>();
  core->options = std::move(options);
  core->provider = std::move(provider);
  core->handler = std::move(handler);
  server->core_ = core;
  std::vector<std::unique_ptr<EventLoop>> loops;
  for (int i = 0; i < core->options.threads; ++i) {
    absl::StatusOr<std::unique_ptr<EventLoop>> loop = EventLoop::Create();
    if (!loop.ok()) return loop.status();  // ~HttpsServer closes the fd.
    loops.push_back(*std::move(loop));
  }
  for (auto& loop : loops) {
    server->workers_.push_back(std::make_unique<Worker>(
        core.get(), std::move(loop), server->listen_fd_));
  }
  for (auto& worker : server->workers_) {
    Worker* w = worker.get();
    server->threads_.emplace_back([w] { (void)w->loop().Run(); });
  }
  return server;
}

HttpsServer::~HttpsServer() {
  Shutdown(absl::ZeroDuration());
  if (listen_fd_ >= 0) ::close(listen_fd_);
}

ServerStats HttpsServer::Stats() const {
  const server_internal::AtomicStats& s = core_->stats;
  constexpr auto r = std::memory_order_relaxed;
  return ServerStats{
      .connections_open = s.connections_open.load(r),
      .accepted = s.accepted.load(r),
      .refused = s.refused.load(r),
      .handshakes_ok = s.handshakes_ok.load(r),
      .handshakes_failed = s.handshakes_failed.load(r),
      .requests = s.requests.load(r),
      .bad_requests = s.bad_requests.load(r),
      .timeouts = s.timeouts.load(r),
  };
}

void HttpsServer::Shutdown(absl::Duration grace) {
  std::lock_guard<std::mutex> guard(shutdown_mu_);
  if (shut_down_) return;
  shut_down_ = true;
  if (core_ == nullptr) return;
  core_->draining.store(true);

  // Phase 1: every loop stops accepting and closes its idle connections.
  std::mutex mu;
  std::condition_variable cv;
  size_t drained = 0;
  for (auto& worker : workers_) {
    Worker* w = worker.get();
    w->loop().Post([w, &mu, &cv, &drained] {
      w->BeginDrain();
      std::lock_guard<std::mutex> lock(mu);
      ++drained;
      cv.notify_all();
    });
  }
  {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return drained == workers_.size(); });
  }
  // No loop watches the listener any more: closing it resets queued
  // connections instead of leaving them to time out.
  ::close(listen_fd_);
  listen_fd_ = -1;

  // Phase 2: wait for in-flight requests, up to the deadline. A loop stops
  // by itself once its last connection is gone.
  const absl::Time deadline = absl::Now() + grace;
  for (size_t i = 0; i < threads_.size(); ++i) {
    while (absl::Now() < deadline && !workers_[i]->loop().Stopped()) {
      absl::SleepFor(absl::Milliseconds(5));
    }
  }
  // Phase 3: force-close what remains.
  for (auto& worker : workers_) {
    Worker* w = worker.get();
    w->loop().Post([w] { w->ForceCloseAll(); });
  }
  for (std::thread& t : threads_) t.join();
  threads_.clear();
}

}  // namespace sslshim::runtime
