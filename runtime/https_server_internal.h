// https_server_internal.h (private to the HTTPS server)
// -----------------------------------------------------------------------------
// The pieces behind HttpsServer: ServerCore (what every loop shares: options,
// provider, handler, counters), Worker (one event loop and the connections
// it accepted) and Connection (one TLS connection's state machine:
// handshake -> open (HTTP/1.1) -> linger -> closed).
//
// Threading: a Worker and its Connections are touched only by the worker's
// loop thread; ServerCore is read-only after Start except for its atomics.

#ifndef SSLSHIM_RUNTIME_HTTPS_SERVER_INTERNAL_H_
#define SSLSHIM_RUNTIME_HTTPS_SERVER_INTERNAL_H_

#include <atomic>
#include <cstdint>
#include <ctime>
#include <memory>
#include <string>
#include <unordered_map>

#include "absl/status/status.h"
#include "runtime/connection_event.h"
#include "runtime/context_provider.h"
#include "runtime/event_loop.h"
#include "runtime/http_request.h"
#include "runtime/https_server.h"
#include "runtime/request_parser.h"
#include "shim/ssl_socket.h"

namespace sslshim::runtime::server_internal {

// Counters behind ServerStats.
struct AtomicStats {
  std::atomic<uint64_t> connections_open{0}, accepted{0}, refused{0},
      handshakes_ok{0}, handshakes_failed{0}, requests{0}, bad_requests{0},
      timeouts{0};
};

struct ServerCore {
  HttpsServerOptions options;
  std::shared_ptr<ContextProvider> provider;
  HttpHandler handler;
  AtomicStats stats;
  std::atomic<uint64_t> next_id{1};
  std::atomic<bool> draining{false};
};

class Connection;

// Worker owns one EventLoop, accepts from the shared listening socket, and
// owns the connections it accepted.
class Worker : public EventLoop::Watcher {
 public:
  Worker(ServerCore* core, std::unique_ptr<EventLoop> loop, int listen_fd);
  ~Worker() override;

  EventLoop& loop() { return *loop_; }
  ServerCore& core() { return *core_; }

  // OnEvents: the listening socket is readable; accept a batch.
  void OnEvents(uint32_t events) override;

  // BeginDrain (loop thread): stop accepting, close idle connections, mark
  // the others to close after their current response.
  void BeginDrain();
  // ForceCloseAll (loop thread): close every connection now, then stop.
  void ForceCloseAll();

  // Release (loop thread): a closed connection hands itself back; it is
  // destroyed after the current batch. Stops the loop when draining and the
  // last connection is gone.
  void Release(Connection* connection);

  // Scratch is a per-loop read buffer shared by the loop's connections.
  char* scratch() { return scratch_; }
  static constexpr size_t kScratchSize = 16 << 10;

  // Date returns the current IMF-fixdate, formatted at most once a second.
  const std::string& Date();

 private:
  void AcceptBatch();
  void PauseAccepting();
  void MaybeStop();

  ServerCore* const core_;
  std::unique_ptr<EventLoop> loop_;
  const int listen_fd_;
  bool accepting_ = false;
  bool draining_ = false;
  std::unordered_map<Connection*, std::unique_ptr<Connection>> connections_;
  char scratch_[kScratchSize];
  time_t date_second_ = 0;
  std::string date_;
};

class Connection : public EventLoop::Watcher {
 public:
  // The connection takes ownership of `fd` (accepted, non-blocking).
  Connection(Worker* worker, uint64_t id, int fd, std::string peer);
  ~Connection() override;

  // Start gets a context from the provider, wraps the fd and registers it.
  // On failure the connection is closed and reported (it is then released).
  void Start();

  void OnEvents(uint32_t events) override;

  // OnDrain (server shutting down): close now when idle, otherwise close
  // after the response in progress.
  void OnDrain();

  // Close ends the connection now: removes it from the loop, closes the fd,
  // reports the event and releases itself to the worker.
  void Close(CloseReason reason);

 private:
  enum class State { kHandshake, kOpen, kLinger, kClosed };

  void DoHandshake();
  // Pump moves data both ways as far as it can without blocking, then
  // decides what to wait for next.
  void Pump();
  void ReadAvailable();
  void Consume(absl::string_view data);
  size_t Process(absl::string_view data);
  void Serve(HttpRequest request, bool keep_alive);
  void QueueError(int status, const std::string& message,
                  CloseReason reason);
  void Flush();
  // WantsToRead: more request bytes are welcome (not closing, and neither
  // buffer is over its backpressure limit).
  bool WantsToRead() const;
  // Idle: nothing buffered either way and no request half-received.
  bool Idle() const;
  void StartLinger(CloseReason reason);
  void DrainLinger();
  void RecordError(const absl::Status& status);
  void UpdateInterest();
  void UpdateDeadline();
  void OnTimer();
  const ClientIdentity& Identity();

  Worker* const worker_;
  EventLoop& loop_;
  ServerCore& core_;
  State state_ = State::kHandshake;
  int fd_;
  std::unique_ptr<shim::SSLSocket> sock_;
  RequestParser parser_;
  std::string in_;   // Read but not yet parsed (pipelined beyond a pause).
  // Queued response bytes; the first out_sent_ were accepted by SSL_write
  // (dropped when all are, or compacted once they outweigh the rest, so a
  // large response costs linear time, not a memmove per record).
  std::string out_;
  size_t out_sent_ = 0;
  size_t PendingOutput() const { return out_.size() - out_sent_; }
  void ClearOutput();
  bool peer_eof_ = false;
  bool close_after_write_ = false;
  bool read_wants_write_ = false;
  bool write_wants_read_ = false;
  uint32_t handshake_interest_ = EPOLLIN;
  uint32_t interest_ = 0;  // What the fd is registered for (0: not yet).
  CloseReason close_reason_ = CloseReason::kPeerClosed;
  bool identity_ready_ = false;
  ClientIdentity identity_;

  // Timers: one armed loop timer at a time, re-armed lazily when it fires
  // before the (moved) deadline.
  EventLoop::Clock::time_point accepted_at_;
  EventLoop::Clock::time_point last_activity_;
  EventLoop::Clock::time_point request_started_at_;
  EventLoop::Clock::time_point output_started_at_;
  EventLoop::Clock::time_point linger_until_;
  bool request_clock_ = false;
  bool output_clock_ = false;
  EventLoop::Clock::time_point deadline_;
  CloseReason deadline_reason_ = CloseReason::kHandshakeTimeout;
  bool timer_armed_ = false;
  EventLoop::Clock::time_point timer_at_;
  EventLoop::TimerId timer_id_ = 0;
  size_t lingered_bytes_ = 0;

  ConnectionEvent event_;
};

}  // namespace sslshim::runtime::server_internal

#endif  // SSLSHIM_RUNTIME_HTTPS_SERVER_INTERNAL_H_
