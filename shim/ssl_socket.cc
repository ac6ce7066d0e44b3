#include "shim/ssl_socket.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "openssl/err.h"
#include "openssl/x509.h"
#include "shim/errors.h"
#include "shim/peercert.h"
#include "shim/verify_host.h"

namespace sslshim::shim {
namespace {

absl::string_view OpName(int op) {
  switch (op) {
    case 0:
      return "handshake";
    case 1:
      return "read";
    case 2:
      return "write";
    default:
      return "shutdown";
  }
}

absl::Status Closed() {
  return MakeError(ErrorKind::kSSLError, absl::StatusCode::kFailedPrecondition,
                   "the socket is closed");
}

// PeerName renders the connected peer's address for error messages.
std::string PeerName(int fd) {
  sockaddr_storage addr{};
  socklen_t len = sizeof(addr);
  if (fd < 0 || getpeername(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    return "unknown peer";
  }
  char host[INET6_ADDRSTRLEN] = {0};
  if (addr.ss_family == AF_INET) {
    auto* in = reinterpret_cast<sockaddr_in*>(&addr);
    inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
    return absl::StrCat(host, ":", ntohs(in->sin_port));
  }
  if (addr.ss_family == AF_INET6) {
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&addr);
    inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
    return absl::StrCat("[", host, "]:", ntohs(in6->sin6_port));
  }
  return "local peer";
}

// WouldBlock returns SSLWantReadError / SSLWantWriteError. A non-blocking
// socket in an event loop sees these at least once per request, so they are
// built once and shared: copying a Status only bumps its reference count,
// where building one (message + kind payload) costs several allocations.
const absl::Status& WouldBlock(bool want_write) {
  static const absl::Status* const kWantRead = new absl::Status(
      MakeError(ErrorKind::kSSLWantReadError, absl::StatusCode::kUnavailable,
                "The operation did not complete (read)"));
  static const absl::Status* const kWantWrite = new absl::Status(
      MakeError(ErrorKind::kSSLWantWriteError, absl::StatusCode::kUnavailable,
                "The operation did not complete (write)"));
  return want_write ? *kWantWrite : *kWantRead;
}

// ClearQueuedErrors empties BoringSSL's error queue when it holds anything.
// ERR_clear_error walks the whole per-thread queue even when it is empty
// (~600 instructions, about a tenth of a keep-alive request's server work),
// and RunIo clears before every read and write.
void ClearQueuedErrors() {
  if (ERR_peek_error() != 0) ERR_clear_error();
}

std::string CipherProtocol(const SSL_CIPHER* cipher) {
  switch (SSL_CIPHER_get_min_version(cipher)) {
    case TLS1_3_VERSION:
      return "TLSv1.3";
    case TLS1_2_VERSION:
      return "TLSv1.2";
    case TLS1_1_VERSION:
      return "TLSv1.1";
    case TLS1_VERSION:
      return "TLSv1.0";
    default:
      return "SSLv3";
  }
}

CipherInfo DescribeCipher(const SSL_CIPHER* cipher) {
  return CipherInfo{SSL_CIPHER_get_name(cipher), CipherProtocol(cipher),
                    SSL_CIPHER_get_bits(cipher, nullptr)};
}

}  // namespace

SSLSocket::SSLSocket(std::shared_ptr<SSLContext> context,
                     bssl::UniquePtr<SSL> ssl, int fd,
                     const WrapOptions& options)
    : context_(std::move(context)),
      ssl_(std::move(ssl)),
      fd_(fd),
      server_side_(options.server_side),
      suppress_ragged_eofs_(options.suppress_ragged_eofs),
      server_hostname_(options.server_hostname),
      peer_name_(PeerName(fd)) {
  SSL_set_app_data(ssl_.get(), this);
}

SSLSocket::~SSLSocket() {
  if (fd_ >= 0) ::close(fd_);
}

enum ssl_select_cert_result_t SSLSocket::OnClientHello(
    const SSL_CLIENT_HELLO* hello) {
  auto* self = static_cast<SSLSocket*>(SSL_get_app_data(hello->ssl));
  if (self == nullptr) return ssl_select_cert_success;
  self->client_cipher_ids_.clear();
  for (size_t i = 0; i + 1 < hello->cipher_suites_len; i += 2) {
    self->client_cipher_ids_.push_back(
        static_cast<uint16_t>(hello->cipher_suites[i] << 8 |
                              hello->cipher_suites[i + 1]));
  }
  return ssl_select_cert_success;
}

int SSLSocket::OnNewSession(SSL* ssl, SSL_SESSION* session) {
  auto* self = static_cast<SSLSocket*>(SSL_get_app_data(ssl));
  if (self == nullptr || self->server_side_) return 0;  // Not taken.
  self->latest_session_ =
      std::make_shared<const SSLSession>(bssl::UniquePtr<SSL_SESSION>(session));
  return 1;
}

std::shared_ptr<const SSLSession> SSLSocket::session() const {
  if (latest_session_ != nullptr) return latest_session_;
  if (ssl_ == nullptr || !handshake_done_) return nullptr;
  SSL_SESSION* current = SSL_get1_session(ssl_.get());
  if (current == nullptr) return nullptr;
  return std::make_shared<const SSLSession>(bssl::UniquePtr<SSL_SESSION>(current));
}

absl::Status SSLSocket::set_context(std::shared_ptr<SSLContext> context) {
  if (context == nullptr) {
    return MakeError(ErrorKind::kSSLError, absl::StatusCode::kInvalidArgument,
                     "set_context: null context");
  }
  if (ssl_ == nullptr) return Closed();
  if (context.get() == context_.get()) return absl::OkStatus();
  if (SSL_set_SSL_CTX(ssl_.get(), context->native()) == nullptr) {
    return ErrorFromQueue(ErrorKind::kSSLError, absl::StatusCode::kInternal,
                          "set_context");
  }
  if (session_context_ == nullptr) session_context_ = context_;
  context_ = std::move(context);
  return absl::OkStatus();
}

absl::Status SSLSocket::CheckOpen() const {
  return fd_ < 0 ? Closed() : absl::OkStatus();
}

absl::Status SSLSocket::WaitFor(Op op, bool want_write, absl::Time deadline) {
  for (;;) {
    absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) {
      return MakeError(ErrorKind::kTimeoutError,
                       absl::StatusCode::kDeadlineExceeded,
                       absl::StrCat("The ", OpName(static_cast<int>(op)),
                                    " operation timed out (peer ",
                                    peer_name_, ")"));
    }
    pollfd pfd{fd_, static_cast<short>(want_write ? POLLOUT : POLLIN), 0};
    int64_t ms = absl::ToInt64Milliseconds(left) + 1;
    int r = poll(&pfd, 1, static_cast<int>(std::min<int64_t>(ms, INT_MAX)));
    if (r > 0) return absl::OkStatus();
    if (r < 0 && errno != EINTR) {
      return MakeError(ErrorKind::kSSLSyscallError,
                       absl::StatusCode::kUnavailable,
                       absl::StrCat("poll: ", std::strerror(errno)));
    }
  }
}

absl::Status SSLSocket::MapError(Op op, int ret, int saved_errno) {
  const int err = SSL_get_error(ssl_.get(), ret);
  if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
    ClearQueuedErrors();
    return WouldBlock(err == SSL_ERROR_WANT_WRITE);
  }
  const std::string where =
      absl::StrCat("TLS ", OpName(static_cast<int>(op)), " (",
                   server_side_ ? "server side" : "client side", ", peer ",
                   peer_name_, ")");
  switch (err) {
    case SSL_ERROR_ZERO_RETURN:
      ERR_clear_error();
      return MakeError(ErrorKind::kSSLZeroReturnError,
                       absl::StatusCode::kOutOfRange,
                       absl::StrCat(where,
                                    ": TLS/SSL connection has been closed (EOF)"));
    case SSL_ERROR_SYSCALL:
      if (ERR_peek_error() != 0) {
        return ErrorFromQueue(ErrorKind::kSSLError, absl::StatusCode::kAborted,
                              where);
      }
      if (ret == 0 || saved_errno == 0 || saved_errno == EPIPE) {
        return MakeError(ErrorKind::kSSLEOFError, absl::StatusCode::kAborted,
                         absl::StrCat(where,
                                      ": EOF occurred in violation of protocol"));
      }
      return MakeError(ErrorKind::kSSLSyscallError,
                       absl::StatusCode::kUnavailable,
                       absl::StrCat(where, ": [Errno ", saved_errno, "] ",
                                    std::strerror(saved_errno)));
    case SSL_ERROR_SSL: {
      if (!sni_error_.ok()) {
        ERR_clear_error();
        return MakeError(ErrorKind::kSSLError, sni_error_.code(),
                         absl::StrCat(where, ": SNI refused: ",
                                      sni_error_.message()));
      }
      uint32_t packed = ERR_peek_error();
      long verify = SSL_get_verify_result(ssl_.get());
      if (ERR_GET_LIB(packed) == ERR_LIB_SSL &&
          ERR_GET_REASON(packed) == SSL_R_CERTIFICATE_VERIFY_FAILED &&
          verify != X509_V_OK) {
        ERR_clear_error();
        std::string reason = VerifyFailureReason(verify, server_hostname_);
        return WithVerifyResult(
            MakeError(ErrorKind::kSSLCertVerificationError,
                      absl::StatusCode::kUnauthenticated,
                      absl::StrCat(where,
                                   ": [SSL: CERTIFICATE_VERIFY_FAILED] "
                                   "certificate verify failed: ",
                                   reason)),
            verify, reason);
      }
      return ErrorFromQueue(ErrorKind::kSSLError, absl::StatusCode::kAborted,
                            where);
    }
    default:
      return ErrorFromQueue(ErrorKind::kSSLError, absl::StatusCode::kAborted,
                            where, absl::StrCat("SSL_get_error ", err));
  }
}

template <typename Fn>
absl::StatusOr<int> SSLSocket::RunIo(Op op, Fn fn) {
  if (fd_ < 0) return Closed();
  const bool waits = timeout_.has_value() && *timeout_ > absl::ZeroDuration();
  const absl::Time deadline =
      waits ? absl::Now() + *timeout_ : absl::InfiniteFuture();
  for (;;) {
    ClearQueuedErrors();
    errno = 0;
    int ret = fn();
    if (ret > 0) return ret;
    const int saved_errno = errno;
    const int err = SSL_get_error(ssl_.get(), ret);
    if (err == SSL_ERROR_SYSCALL && saved_errno == EINTR &&
        ERR_peek_error() == 0) {
      continue;
    }
    if (waits && (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE)) {
      absl::Status s = WaitFor(op, err == SSL_ERROR_WANT_WRITE, deadline);
      if (!s.ok()) return s;
      continue;
    }
    return MapError(op, ret, saved_errno);
  }
}

void SSLSocket::RecordHandshake() {
  handshake_done_ = true;
  SSLContext::Counters& c = session_context()->counters();
  (server_side_ ? c.accept_good : c.connect_good)++;
  (SSL_session_reused(ssl_.get()) ? c.hits : c.misses)++;
}

absl::Status SSLSocket::do_handshake() {
  if (fd_ < 0) return Closed();
  if (handshake_done_) return absl::OkStatus();
  if (!started_) {
    started_ = true;
    (server_side_ ? context_->counters().accept : context_->counters().connect)++;
  }
  absl::StatusOr<int> r =
      RunIo(Op::kHandshake, [this] { return SSL_do_handshake(ssl_.get()); });
  if (!r.ok()) return r.status();
  RecordHandshake();
  return absl::OkStatus();
}

absl::StatusOr<size_t> SSLSocket::recv_into(absl::Span<char> buffer,
                                            size_t nbytes) {
  if (fd_ < 0) return Closed();
  size_t want = nbytes == 0 ? buffer.size() : std::min(nbytes, buffer.size());
  if (want == 0) return 0;
  if (!handshake_done_) {
    absl::Status s = do_handshake();
    if (!s.ok()) return s;
  }
  const int len = static_cast<int>(std::min<size_t>(want, INT_MAX));
  absl::StatusOr<int> r = RunIo(
      Op::kRead, [&] { return SSL_read(ssl_.get(), buffer.data(), len); });
  if (r.ok()) return static_cast<size_t>(*r);
  const ErrorKind kind = GetErrorKind(r.status());
  if (kind == ErrorKind::kSSLZeroReturnError) return 0;  // close_notify.
  if (kind == ErrorKind::kSSLEOFError && suppress_ragged_eofs_) return 0;
  return r.status();
}

absl::StatusOr<std::string> SSLSocket::read(size_t len) {
  std::string out(len, '\0');
  absl::StatusOr<size_t> n = recv_into(absl::MakeSpan(out));
  if (!n.ok()) return n.status();
  out.resize(*n);
  return out;
}

absl::StatusOr<std::string> SSLSocket::recv(size_t bufsize) {
  return read(bufsize);
}

absl::StatusOr<size_t> SSLSocket::write(absl::string_view data) {
  if (fd_ < 0) return Closed();
  if (!handshake_done_) {
    absl::Status s = do_handshake();
    if (!s.ok()) return s;
  }
  if (data.empty()) return 0;
  const int len = static_cast<int>(std::min<size_t>(data.size(), INT_MAX));
  absl::StatusOr<int> r = RunIo(
      Op::kWrite, [&] { return SSL_write(ssl_.get(), data.data(), len); });
  if (!r.ok()) return r.status();
  return static_cast<size_t>(*r);
}

absl::StatusOr<size_t> SSLSocket::send(absl::string_view data) {
  return write(data);
}

absl::Status SSLSocket::sendall(absl::string_view data) {
  while (!data.empty()) {
    absl::StatusOr<size_t> n = write(data);
    if (!n.ok()) return n.status();
    data.remove_prefix(*n);
  }
  return absl::OkStatus();
}

size_t SSLSocket::pending() const {
  return ssl_ == nullptr ? 0 : static_cast<size_t>(SSL_pending(ssl_.get()));
}

absl::StatusOr<PyValue> SSLSocket::getpeercert() const {
  if (!handshake_done_) {
    return MakeError(ErrorKind::kSSLError, absl::StatusCode::kFailedPrecondition,
                     "handshake not done yet");
  }
  bssl::UniquePtr<X509> cert(SSL_get_peer_certificate(ssl_.get()));
  if (cert == nullptr) return PyValue();
  if ((SSL_get_verify_mode(ssl_.get()) & SSL_VERIFY_PEER) == 0) {
    return PyValue::Dict({});
  }
  return DecodeCertificate(cert.get());
}

absl::StatusOr<std::string> SSLSocket::getpeercert(binary_form_t) const {
  if (!handshake_done_) {
    return MakeError(ErrorKind::kSSLError, absl::StatusCode::kFailedPrecondition,
                     "handshake not done yet");
  }
  bssl::UniquePtr<X509> cert(SSL_get_peer_certificate(ssl_.get()));
  if (cert == nullptr) return std::string();
  uint8_t* der = nullptr;
  int len = i2d_X509(cert.get(), &der);
  if (len <= 0) {
    return ErrorFromQueue(ErrorKind::kSSLError, absl::StatusCode::kInternal,
                          "getpeercert");
  }
  std::string out(reinterpret_cast<char*>(der), len);
  OPENSSL_free(der);
  return out;
}

absl::optional<CipherInfo> SSLSocket::cipher() const {
  if (!handshake_done_) return absl::nullopt;
  const SSL_CIPHER* c = SSL_get_current_cipher(ssl_.get());
  if (c == nullptr) return absl::nullopt;
  CipherInfo info = DescribeCipher(c);
  return info;
}

absl::optional<std::string> SSLSocket::version() const {
  if (!handshake_done_) return absl::nullopt;
  return std::string(SSL_get_version(ssl_.get()));
}

absl::optional<std::string> SSLSocket::selected_alpn_protocol() const {
  if (!handshake_done_) return absl::nullopt;
  const uint8_t* proto = nullptr;
  unsigned len = 0;
  SSL_get0_alpn_selected(ssl_.get(), &proto, &len);
  if (len == 0) return absl::nullopt;
  return std::string(reinterpret_cast<const char*>(proto), len);
}

absl::optional<std::vector<CipherInfo>> SSLSocket::shared_ciphers() const {
  if (!handshake_done_) return absl::nullopt;
  std::vector<CipherInfo> out;
  const uint16_t version = SSL_version(ssl_.get());
  if (version == TLS1_3_VERSION) {
    // TLS 1.3 suites are fixed in BoringSSL; list those both sides support.
    for (uint16_t id : {0x1301, 0x1302, 0x1303}) {
      const bool offered =
          !server_side_ || std::find(client_cipher_ids_.begin(),
                                     client_cipher_ids_.end(),
                                     id) != client_cipher_ids_.end();
      const SSL_CIPHER* c = SSL_get_cipher_by_value(id);
      if (offered && c != nullptr) out.push_back(DescribeCipher(c));
    }
  }
  STACK_OF(SSL_CIPHER)* ours = SSL_get_ciphers(ssl_.get());
  for (size_t i = 0; i < sk_SSL_CIPHER_num(ours); ++i) {
    const SSL_CIPHER* c = sk_SSL_CIPHER_value(ours, i);
    if (SSL_CIPHER_get_min_version(c) > version) continue;
    if (server_side_ &&
        std::find(client_cipher_ids_.begin(), client_cipher_ids_.end(),
                  SSL_CIPHER_get_protocol_id(c)) == client_cipher_ids_.end()) {
      continue;
    }
    out.push_back(DescribeCipher(c));
  }
  return out;
}

bool SSLSocket::session_reused() const {
  return ssl_ != nullptr && SSL_session_reused(ssl_.get());
}

absl::StatusOr<int> SSLSocket::unwrap() {
  if (fd_ < 0) return Closed();
  absl::StatusOr<int> r = RunIo(Op::kShutdown, [this] {
    int ret = SSL_shutdown(ssl_.get());
    // 0: our close_notify is sent, the peer's not yet seen. Ask again, which
    // reads until the peer's close_notify (or would block).
    if (ret == 0) ret = SSL_shutdown(ssl_.get());
    return ret;
  });
  if (!r.ok()) {
    // A peer that already closed the transport after its close_notify is an
    // orderly close for our purposes.
    if (!(SSL_get_shutdown(ssl_.get()) & SSL_RECEIVED_SHUTDOWN)) {
      return r.status();
    }
  }
  const int fd = fd_;
  fd_ = -1;
  return fd;
}

absl::Status SSLSocket::shutdown(int how) {
  if (fd_ < 0) return Closed();
  if (::shutdown(fd_, how) != 0) {
    return MakeError(ErrorKind::kSSLSyscallError, absl::StatusCode::kUnavailable,
                     absl::StrCat("shutdown: ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

absl::Status SSLSocket::close() {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
  return absl::OkStatus();
}

absl::Status SSLSocket::setblocking(bool blocking) {
  return settimeout(blocking ? absl::optional<absl::Duration>()
                             : absl::optional<absl::Duration>(absl::ZeroDuration()));
}

absl::Status SSLSocket::settimeout(absl::optional<absl::Duration> timeout) {
  if (fd_ < 0) return Closed();
  if (timeout.has_value() && *timeout < absl::ZeroDuration()) {
    return MakeError(ErrorKind::kSSLError, absl::StatusCode::kInvalidArgument,
                     "Timeout value out of range");
  }
  int flags = fcntl(fd_, F_GETFL);
  if (flags < 0) {
    return MakeError(ErrorKind::kSSLSyscallError, absl::StatusCode::kUnavailable,
                     absl::StrCat("fcntl: ", std::strerror(errno)));
  }
  flags = timeout.has_value() ? (flags | O_NONBLOCK) : (flags & ~O_NONBLOCK);
  if (fcntl(fd_, F_SETFL, flags) != 0) {
    return MakeError(ErrorKind::kSSLSyscallError, absl::StatusCode::kUnavailable,
                     absl::StrCat("fcntl: ", std::strerror(errno)));
  }
  timeout_ = timeout;
  return absl::OkStatus();
}

}  // namespace sslshim::shim
