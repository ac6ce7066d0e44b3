// One TLS connection of the HTTPS server (see https_server_internal.h).

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <utility>

#include "absl/strings/str_cat.h"
#include "openssl/bio.h"
#include "openssl/ssl.h"
#include "openssl/x509.h"
#include "runtime/https_server_internal.h"
#include "shim/errors.h"

namespace sslshim::runtime::server_internal {
namespace {

// Stop reading (and parsing pipelined requests) while this much response
// data waits to be written, or this much request data waits to be parsed.
constexpr size_t kMaxPendingOutput = 256 << 10;
constexpr size_t kMaxPendingInput = 64 << 10;
// A lingering close reads and drops at most this much before closing.
constexpr size_t kMaxLingerBytes = 256 << 10;

using Clock = EventLoop::Clock;

std::string SubjectRfc2253(X509* cert) {
  bssl::UniquePtr<BIO> bio(BIO_new(BIO_s_mem()));
  if (bio == nullptr ||
      X509_NAME_print_ex(bio.get(), X509_get_subject_name(cert), 0,
                         XN_FLAG_RFC2253) < 0) {
    return "";
  }
  const uint8_t* data = nullptr;
  size_t len = 0;
  BIO_mem_contents(bio.get(), &data, &len);
  return std::string(reinterpret_cast<const char*>(data), len);
}

bool IsWant(shim::ErrorKind kind) {
  return kind == shim::ErrorKind::kSSLWantReadError ||
         kind == shim::ErrorKind::kSSLWantWriteError;
}

}  // namespace

Connection::Connection(Worker* worker, uint64_t id, int fd, std::string peer)
    : worker_(worker),
      loop_(worker->loop()),
      core_(worker->core()),
      fd_(fd),
      parser_(worker->core().options.limits) {
  event_.id = id;
  event_.peer = std::move(peer);
  accepted_at_ = last_activity_ = loop_.Now();
}

Connection::~Connection() {
  if (sock_ == nullptr && fd_ >= 0) ::close(fd_);
}

void Connection::Start() {
  absl::StatusOr<std::shared_ptr<shim::SSLContext>> ctx =
      core_.provider->Current();
  if (!ctx.ok()) {
    RecordError(ctx.status());
    Close(CloseReason::kContextError);
    return;
  }
  const int one = 1;
  setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  absl::StatusOr<std::unique_ptr<shim::SSLSocket>> sock = (*ctx)->wrap_socket(
      fd_, {.server_side = true, .do_handshake_on_connect = false});
  if (!sock.ok()) {
    fd_ = -1;  // wrap_socket closed it.
    RecordError(sock.status());
    Close(CloseReason::kContextError);
    return;
  }
  sock_ = *std::move(sock);
  // Responses are appended to out_ while an SSL_write of its prefix may be
  // pending; the prefix never changes, but the buffer may move.
  SSL_set_mode(sock_->native(), SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  if (absl::Status s = loop_.Add(fd_, EPOLLIN, this); !s.ok()) {
    RecordError(s);
    Close(CloseReason::kIoError);
    return;
  }
  interest_ = EPOLLIN;
  UpdateDeadline();
}

void Connection::RecordError(const absl::Status& status) {
  event_.error_kind = shim::GetErrorKind(status);
  event_.verify_code = shim::GetVerifyCode(status);
  event_.verify_message = shim::GetVerifyMessage(status).value_or("");
  event_.error = std::string(status.message());
}

void Connection::OnEvents(uint32_t /*events*/) {
  switch (state_) {
    case State::kHandshake:
      DoHandshake();
      break;
    case State::kOpen:
      Pump();
      break;
    case State::kLinger:
      DrainLinger();
      break;
    case State::kClosed:
      break;
  }
}

void Connection::DoHandshake() {
  absl::Status s = sock_->do_handshake();
  if (s.ok()) {
    state_ = State::kOpen;
    core_.stats.handshakes_ok.fetch_add(1, std::memory_order_relaxed);
    event_.handshake_ok = true;
    event_.version = sock_->version().value_or("");
    if (absl::optional<shim::CipherInfo> c = sock_->cipher()) {
      event_.cipher = c->name;
    }
    event_.session_reused = sock_->session_reused();
    last_activity_ = loop_.Now();
    Pump();  // The first request may already be here.
    return;
  }
  const shim::ErrorKind kind = shim::GetErrorKind(s);
  if (IsWant(kind)) {
    handshake_interest_ =
        kind == shim::ErrorKind::kSSLWantReadError ? EPOLLIN : EPOLLOUT;
    UpdateInterest();
    return;
  }
  core_.stats.handshakes_failed.fetch_add(1, std::memory_order_relaxed);
  RecordError(s);
  // BoringSSL has written its alert; a peer that vanished gets no linger.
  if (kind == shim::ErrorKind::kSSLEOFError ||
      kind == shim::ErrorKind::kSSLSyscallError) {
    Close(CloseReason::kHandshakeFailed);
  } else {
    StartLinger(CloseReason::kHandshakeFailed);
  }
}

bool Connection::WantsToRead() const {
  return !peer_eof_ && !close_after_write_ &&
         PendingOutput() < kMaxPendingOutput &&
         in_.size() < kMaxPendingInput;
}

bool Connection::Idle() const {
  return PendingOutput() == 0 && in_.empty() && !parser_.in_message();
}

void Connection::Pump() {
  Flush();
  if (state_ != State::kOpen) return;
  if (!in_.empty() && PendingOutput() < kMaxPendingOutput) {
    std::string pending;
    pending.swap(in_);
    Consume(pending);
    if (state_ != State::kOpen) return;
  }
  ReadAvailable();
  if (state_ != State::kOpen) return;
  Flush();
  if (state_ != State::kOpen) return;
  if (PendingOutput() == 0) {
    if (close_after_write_) return StartLinger(close_reason_);
    if (peer_eof_) return Close(CloseReason::kPeerClosed);
    if (core_.draining.load(std::memory_order_relaxed) && Idle()) {
      return StartLinger(CloseReason::kShutdown);
    }
  }
  UpdateInterest();
  UpdateDeadline();
}

void Connection::ReadAvailable() {
  char* const scratch = worker_->scratch();
  while (WantsToRead()) {
    absl::StatusOr<size_t> n =
        sock_->recv_into(absl::MakeSpan(scratch, Worker::kScratchSize));
    if (!n.ok()) {
      const shim::ErrorKind kind = shim::GetErrorKind(n.status());
      if (kind == shim::ErrorKind::kSSLWantReadError) return;
      if (kind == shim::ErrorKind::kSSLWantWriteError) {
        read_wants_write_ = true;
        return;
      }
      RecordError(n.status());
      return Close(CloseReason::kIoError);
    }
    read_wants_write_ = false;
    if (*n == 0) {
      peer_eof_ = true;
      return;
    }
    event_.bytes_in += *n;
    last_activity_ = loop_.Now();
    Consume(absl::string_view(scratch, *n));
    if (state_ != State::kOpen) return;
    // The fd is level-triggered: when this read did not fill the buffer and
    // BoringSSL holds nothing more (it reads the socket record by record),
    // skip the read that would only say EAGAIN (one syscall and one
    // SSL_read per request); epoll reports any bytes still queued.
    if (*n < Worker::kScratchSize && !SSL_has_pending(sock_->native())) return;
  }
}

void Connection::Consume(absl::string_view data) {
  if (!in_.empty()) {
    in_.append(data.data(), data.size());
    std::string pending;
    pending.swap(in_);
    const size_t used = Process(pending);
    if (used < pending.size()) in_.assign(pending, used);
    return;
  }
  const size_t used = Process(data);
  if (used < data.size()) in_.assign(data.data() + used, data.size() - used);
}

size_t Connection::Process(absl::string_view data) {
  size_t pos = 0;
  while (pos < data.size() && state_ == State::kOpen && !close_after_write_) {
    if (PendingOutput() >= kMaxPendingOutput) break;  // Resumed by Pump.
    size_t used = 0;
    const RequestParser::Result r = parser_.Feed(data.substr(pos), &used);
    pos += used;
    if (parser_.TakeExpectContinue()) {
      out_.append("HTTP/1.1 100 Continue\r\n\r\n");
    }
    if (r == RequestParser::Result::kRequest) {
      Serve(parser_.TakeRequest(), parser_.keep_alive());
    } else if (r == RequestParser::Result::kError) {
      QueueError(parser_.error_status(), parser_.error_message(),
                 CloseReason::kBadRequest);
      return data.size();  // The rest of the stream is not HTTP to us.
    }
  }
  return pos;
}

const ClientIdentity& Connection::Identity() {
  if (identity_ready_ || sock_ == nullptr || !sock_->handshake_done()) {
    return identity_;
  }
  identity_ready_ = true;
  absl::StatusOr<shim::PyValue> cert = sock_->getpeercert();
  if (cert.ok()) identity_.peercert = *std::move(cert);
  bssl::UniquePtr<X509> x509(SSL_get_peer_certificate(sock_->native()));
  if (x509 != nullptr) {
    identity_.subject = SubjectRfc2253(x509.get());
    identity_.verified =
        (SSL_get_verify_mode(sock_->native()) & SSL_VERIFY_PEER) != 0 &&
        SSL_get_verify_result(sock_->native()) == X509_V_OK;
  }
  return identity_;
}

void Connection::Serve(HttpRequest request, bool keep_alive) {
  request.client = &Identity();
  request.peer = event_.peer;
  absl::StatusOr<HttpResponse> response = core_.handler(request);
  ++event_.requests;
  core_.stats.requests.fetch_add(1, std::memory_order_relaxed);
  const size_t limit = core_.options.max_requests_per_connection;
  bool close = !keep_alive;
  if (!close && core_.draining.load(std::memory_order_relaxed)) {
    close = true;
    close_reason_ = CloseReason::kShutdown;
  } else if (!close && limit != 0 && event_.requests >= limit) {
    close = true;
    close_reason_ = CloseReason::kConnectionClose;
  } else if (close) {
    close_reason_ = CloseReason::kConnectionClose;
  }
  const bool keep_alive_header = !close && request.version_minor == 0;
  const size_t before = out_.size();
  AppendResponse(response.ok() ? *response : SimpleResponse(500),
                 worker_->Date(), close, keep_alive_header,
                 request.method == "HEAD", &out_);
  event_.bytes_out += out_.size() - before;
  if (!response.ok() && event_.error.empty()) {
    event_.error = absl::StrCat("handler: ", response.status().ToString());
  }
  if (close) close_after_write_ = true;
}

void Connection::QueueError(int status, const std::string& message,
                            CloseReason reason) {
  core_.stats.bad_requests.fetch_add(1, std::memory_order_relaxed);
  ++event_.requests;
  if (event_.error.empty()) event_.error = message;
  const size_t before = out_.size();
  AppendResponse(SimpleResponse(status), worker_->Date(), /*close=*/true,
                 false, false, &out_);
  event_.bytes_out += out_.size() - before;
  close_after_write_ = true;
  close_reason_ = reason;
}

void Connection::ClearOutput() {
  // Release a large buffer's memory; keep a small one for the next response.
  if (out_.capacity() > kMaxPendingOutput) {
    std::string().swap(out_);
  } else {
    out_.clear();
  }
  out_sent_ = 0;
}

void Connection::Flush() {
  write_wants_read_ = false;
  while (PendingOutput() > 0) {
    absl::StatusOr<size_t> n =
        sock_->write(absl::string_view(out_).substr(out_sent_));
    if (!n.ok()) {
      const shim::ErrorKind kind = shim::GetErrorKind(n.status());
      if (kind == shim::ErrorKind::kSSLWantReadError) {
        write_wants_read_ = true;
      } else if (kind != shim::ErrorKind::kSSLWantWriteError) {
        RecordError(n.status());
        return Close(CloseReason::kIoError);
      }
      // Blocked: drop the written prefix once it outweighs the rest (each
      // byte is moved at most once more; the moved buffer is fine for
      // the retried SSL_write, see SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER).
      if (out_sent_ >= kMaxPendingOutput && out_sent_ >= PendingOutput()) {
        out_.erase(0, out_sent_);
        out_sent_ = 0;
      }
      return;
    }
    out_sent_ += *n;
    last_activity_ = loop_.Now();
  }
  ClearOutput();
}

void Connection::StartLinger(CloseReason reason) {
  close_reason_ = reason;
  if (sock_ != nullptr && sock_->handshake_done()) {
    // Best effort close_notify; a full socket buffer just drops it.
    SSL_shutdown(sock_->native());
  }
  ::shutdown(fd_, SHUT_WR);
  state_ = State::kLinger;
  linger_until_ = loop_.Now() + EventLoop::ToClock(core_.options.linger_timeout);
  std::string().swap(in_);
  ClearOutput();
  DrainLinger();
  if (state_ == State::kLinger) {
    UpdateInterest();
    UpdateDeadline();
  }
}

void Connection::DrainLinger() {
  char* const scratch = worker_->scratch();
  for (;;) {
    const ssize_t n = ::recv(fd_, scratch, Worker::kScratchSize, 0);
    if (n > 0) {
      lingered_bytes_ += static_cast<size_t>(n);
      if (lingered_bytes_ > kMaxLingerBytes) return Close(close_reason_);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    return Close(close_reason_);  // EOF or error: the client is done.
  }
}

void Connection::OnDrain() {
  if (state_ == State::kOpen && Idle()) StartLinger(CloseReason::kShutdown);
}

void Connection::UpdateInterest() {
  uint32_t want = 0;
  switch (state_) {
    case State::kHandshake:
      want = handshake_interest_;
      break;
    case State::kOpen: {
      if (WantsToRead() || write_wants_read_) want |= EPOLLIN;
      if ((PendingOutput() > 0 && !write_wants_read_) || read_wants_write_) {
        want |= EPOLLOUT;
      }
      break;
    }
    case State::kLinger:
      want = EPOLLIN;
      break;
    case State::kClosed:
      return;
  }
  if (want == interest_) return;
  if (absl::Status s = loop_.Modify(fd_, want, this); !s.ok()) {
    RecordError(s);
    return Close(CloseReason::kIoError);
  }
  interest_ = want;
}

void Connection::UpdateDeadline() {
  const HttpsServerOptions& o = core_.options;
  switch (state_) {
    case State::kHandshake:
      deadline_ = accepted_at_ + EventLoop::ToClock(o.handshake_timeout);
      deadline_reason_ = CloseReason::kHandshakeTimeout;
      break;
    case State::kLinger:
      deadline_ = linger_until_;
      deadline_reason_ = close_reason_;
      break;
    case State::kOpen: {
      const Clock::time_point now = loop_.Now();
      if (!parser_.in_message()) {
        request_clock_ = false;
      } else if (!request_clock_) {
        request_clock_ = true;
        request_started_at_ = now;
      }
      if (PendingOutput() == 0) {
        output_clock_ = false;
      } else if (!output_clock_) {
        output_clock_ = true;
        output_started_at_ = now;
      }
      if (output_clock_) {
        deadline_ = output_started_at_ + EventLoop::ToClock(o.request_timeout);
        deadline_reason_ = CloseReason::kRequestTimeout;
      } else if (request_clock_ || !in_.empty()) {
        if (!request_clock_) request_started_at_ = now, request_clock_ = true;
        deadline_ = request_started_at_ + EventLoop::ToClock(o.request_timeout);
        deadline_reason_ = CloseReason::kRequestTimeout;
      } else {
        deadline_ = last_activity_ + EventLoop::ToClock(o.idle_timeout);
        deadline_reason_ = CloseReason::kIdleTimeout;
      }
      break;
    }
    case State::kClosed:
      return;
  }
  if (timer_armed_ && timer_at_ <= deadline_) return;  // Re-armed lazily.
  if (timer_armed_) loop_.Cancel(timer_id_);
  timer_armed_ = true;
  timer_at_ = deadline_;
  timer_id_ = loop_.RunAt(deadline_, [this] { OnTimer(); });
}

void Connection::OnTimer() {
  timer_armed_ = false;
  if (state_ == State::kClosed) return;
  if (loop_.Now() < deadline_) {
    UpdateDeadline();
    return;
  }
  if (state_ == State::kLinger) return Close(close_reason_);
  switch (deadline_reason_) {
    case CloseReason::kHandshakeTimeout:
      core_.stats.timeouts.fetch_add(1, std::memory_order_relaxed);
      event_.error = "TLS handshake timed out";
      event_.error_kind = shim::ErrorKind::kTimeoutError;
      return Close(CloseReason::kHandshakeTimeout);
    case CloseReason::kIdleTimeout:
      core_.stats.timeouts.fetch_add(1, std::memory_order_relaxed);
      return StartLinger(CloseReason::kIdleTimeout);
    case CloseReason::kRequestTimeout:
      core_.stats.timeouts.fetch_add(1, std::memory_order_relaxed);
      event_.error_kind = shim::ErrorKind::kTimeoutError;
      if (PendingOutput() > 0) {
        // The client is not reading its response.
        event_.error = "response not read within request_timeout";
        return Close(CloseReason::kRequestTimeout);
      }
      event_.error = "request not received within request_timeout";
      ClearOutput();
      AppendResponse(SimpleResponse(408), worker_->Date(), true, false, false,
                     &out_);
      Flush();  // One attempt: a slow client gets its 408 if it can take it.
      if (state_ == State::kOpen) StartLinger(CloseReason::kRequestTimeout);
      return;
    default:
      return Close(deadline_reason_);
  }
}

void Connection::Close(CloseReason reason) {
  if (state_ == State::kClosed) return;
  state_ = State::kClosed;
  if (timer_armed_) loop_.Cancel(timer_id_);
  timer_armed_ = false;
  if (interest_ != 0) loop_.Remove(fd_);
  if (sock_ != nullptr) {
    if (sock_->handshake_done() && core_.options.on_connection_closed) {
      const ClientIdentity& id = Identity();
      event_.peercert = id.peercert;
      event_.subject = id.subject;
    }
    (void)sock_->close();
  } else if (fd_ >= 0) {
    ::close(fd_);
  }
  fd_ = -1;
  event_.close_reason = reason;
  event_.duration = absl::Nanoseconds(
      std::chrono::duration_cast<std::chrono::nanoseconds>(
          Clock::now() - accepted_at_)
          .count());
  core_.stats.connections_open.fetch_sub(1, std::memory_order_relaxed);
  if (core_.options.on_connection_closed) {
    core_.options.on_connection_closed(event_);
  }
  worker_->Release(this);
}

}  // namespace sslshim::runtime::server_internal
