// ssl_socket.h
// -----------------------------------------------------------------------------
// SSLSocket: Python's ssl.SSLSocket over one BoringSSL SSL and a socket fd.
// Made by SSLContext::wrap_socket (or the module-level wrap_socket).
//
//   absl::StatusOr<std::unique_ptr<SSLSocket>> s =
//       ctx->wrap_socket(fd, {.server_hostname = "a.hostname.com"});
//   if (!s.ok()) return s.status();      // fd already closed
//   (*s)->sendall("GET / HTTP/1.0\r\n\r\n");
//   absl::StatusOr<std::string> reply = (*s)->recv(4096);
//   PyValue cert = (*s)->getpeercert();
//
// Blocking behaviour follows Python's socket timeouts: settimeout(None)
// blocks; settimeout(0) (or setblocking(false)) makes every call return
// SSLWantReadError / SSLWantWriteError instead of waiting; a positive timeout
// waits up to that long per call, then fails with TimeoutError. The timeout
// covers the handshake too.
//
// Ownership and lifetimes: the socket owns its fd (closed by close() or the
// destructor, or handed back by unwrap()) and holds a reference to its
// SSLContext. Thread-safety: one SSLSocket is used by one thread at a time.

#ifndef SSLSHIM_SHIM_SSL_SOCKET_H_
#define SSLSHIM_SHIM_SSL_SOCKET_H_

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"
#include "absl/types/span.h"
#include "openssl/ssl.h"
#include "shim/py_value.h"
#include "shim/ssl_context.h"

namespace sslshim::shim {

// binary_form selects getpeercert's DER overload: getpeercert(binary_form).
struct binary_form_t {};
inline constexpr binary_form_t binary_form{};

// CipherInfo is the (name, protocol, secret_bits) tuple of SSLSocket::cipher.
struct CipherInfo {
  std::string name;      // OpenSSL name, e.g. "TLS_AES_128_GCM_SHA256".
  std::string protocol;  // e.g. "TLSv1.3".
  int secret_bits = 0;
};

class SSLSocket {
 public:
  ~SSLSocket();
  SSLSocket(const SSLSocket&) = delete;
  SSLSocket& operator=(const SSLSocket&) = delete;

  // do_handshake runs (or continues) the TLS handshake. Errors:
  // SSLWantRead/WriteError (non-blocking), TimeoutError ("_ssl.c: The
  // handshake operation timed out"), SSLCertVerificationError with the verify
  // code, SSLError for alerts and protocol errors, SSLEOFError when the peer
  // vanished mid-handshake, SSLSyscallError for socket errors.
  absl::Status do_handshake();

  // read returns up to `len` bytes (an empty string at a clean close, and at
  // an unclean EOF when suppress_ragged_eofs). recv(n) is the same; recv(0)
  // returns "". Errors as do_handshake, plus SSLEOFError for a ragged EOF
  // when !suppress_ragged_eofs.
  absl::StatusOr<std::string> read(size_t len = 1024);
  absl::StatusOr<std::string> recv(size_t bufsize);

  // recv_into reads into `buffer` (up to nbytes, 0 = whole buffer) and
  // returns the count. Same errors as read.
  absl::StatusOr<size_t> recv_into(absl::Span<char> buffer, size_t nbytes = 0);

  // write / send write some or all of `data` and return how many bytes were
  // written (BoringSSL writes all in blocking mode). sendall writes all.
  absl::StatusOr<size_t> write(absl::string_view data);
  absl::StatusOr<size_t> send(absl::string_view data);
  absl::Status sendall(absl::string_view data);

  // pending returns the decrypted bytes buffered and readable without I/O.
  size_t pending() const;

  // getpeercert returns CPython's dictionary for the peer's certificate, an
  // empty dict when the context does not verify peers (CERT_NONE), or None
  // when the peer sent no certificate. Error (FailedPrecondition) before the
  // handshake ("handshake not done yet").
  absl::StatusOr<PyValue> getpeercert() const;

  // getpeercert(binary_form) returns the DER of the peer's leaf certificate,
  // whether verified or not ("" when the peer sent none).
  absl::StatusOr<std::string> getpeercert(binary_form_t) const;

  // cipher / version / selected_alpn_protocol describe the connection, or
  // nullopt before the handshake (or when nothing was negotiated).
  absl::optional<CipherInfo> cipher() const;
  absl::optional<std::string> version() const;
  absl::optional<std::string> selected_alpn_protocol() const;

  // shared_ciphers returns the ciphers both sides offered (server side: our
  // enabled ciphers the client listed; client side: our enabled ciphers
  // usable at the negotiated version), or nullopt before the handshake.
  absl::optional<std::vector<CipherInfo>> shared_ciphers() const;

  // unwrap performs the TLS closing handshake (sends close_notify and waits
  // for the peer's, within the timeout) and returns the plain fd, whose
  // ownership passes to the caller. Errors as read; the fd is kept on error.
  absl::StatusOr<int> unwrap();

  // shutdown calls shutdown(2) on the socket (how = SHUT_RD/WR/RDWR) without
  // a TLS closing handshake, as Python's SSLSocket.shutdown.
  absl::Status shutdown(int how);

  // close closes the fd (idempotent). No close_notify is sent, as in Python;
  // use unwrap() for an orderly TLS close.
  absl::Status close();

  // fileno returns the fd, or -1 after close/unwrap.
  int fileno() const { return fd_; }

  // setblocking(false) == settimeout(0); setblocking(true) == settimeout(None).
  absl::Status setblocking(bool blocking);
  absl::Status settimeout(absl::optional<absl::Duration> timeout);
  absl::optional<absl::Duration> gettimeout() const { return timeout_; }

  bool server_side() const { return server_side_; }
  const std::string& server_hostname() const { return server_hostname_; }
  bool handshake_done() const { return handshake_done_; }
  const std::shared_ptr<SSLContext>& context() const { return context_; }
  bool session_reused() const;

  // session returns Python's SSLSocket.session: the newest resumable session
  // of this client connection (TLS 1.3 tickets are sent after the handshake
  // and processed by the next read, so read once before asking), else the
  // connection's current session, or null before the handshake. Pass it to
  // a later wrap_socket(WrapOptions::session) to resume.
  std::shared_ptr<const SSLSession> session() const;

  // set_context is Python's SSLSocket.context setter (SSL_set_SSL_CTX):
  // switches the connection to `context`'s certificate and key. Meant for an
  // SNI callback on the server; session tickets and the session cache stay
  // with the context the socket was wrapped with. The socket keeps `context`
  // alive. Errors: InvalidArgument for a null context.
  absl::Status set_context(std::shared_ptr<SSLContext> context);

  // session_context is the context the socket was wrapped with: the one whose
  // session cache, ticket keys and session_stats() serve this connection,
  // even after set_context switched its certificate.
  const std::shared_ptr<SSLContext>& session_context() const {
    return session_context_ != nullptr ? session_context_ : context_;
  }

  // native returns the BoringSSL connection (owned by this socket).
  SSL* native() const { return ssl_.get(); }

 private:
  friend class SSLContext;
  SSLSocket(std::shared_ptr<SSLContext> context, bssl::UniquePtr<SSL> ssl,
            int fd, const WrapOptions& options);

  enum class Op { kHandshake, kRead, kWrite, kShutdown };
  // RunIo retries `fn` (an SSL_* call) according to the timeout, returning
  // its positive result or the mapped error.
  template <typename Fn>
  absl::StatusOr<int> RunIo(Op op, Fn fn);
  absl::Status MapError(Op op, int ret, int saved_errno);
  absl::Status WaitFor(Op op, bool want_write, absl::Time deadline);
  absl::Status CheckOpen() const;
  void RecordHandshake();

  std::shared_ptr<SSLContext> context_;
  bssl::UniquePtr<SSL> ssl_;
  int fd_;
  bool server_side_;
  bool suppress_ragged_eofs_;
  std::string server_hostname_;
  // The peer's address, recorded at wrap time: after a reset getpeername(2)
  // fails, and errors must still say who the peer was.
  std::string peer_name_;
  absl::optional<absl::Duration> timeout_;
  bool handshake_done_ = false;
  bool started_ = false;  // do_handshake was called (session_stats).
  std::vector<uint16_t> client_cipher_ids_;  // Server side: ClientHello list.
  // Client side: the newest resumable session (OnNewSession).
  std::shared_ptr<const SSLSession> latest_session_;
  // Server side: why the SNI callback refused the handshake.
  absl::Status sni_error_;
  // The context the socket was wrapped with, when set_context switched away
  // (it keeps the session cache and ticket keys BoringSSL still uses).
  std::shared_ptr<SSLContext> session_context_;

  // OnNewSession keeps a client's new resumable session; installed by
  // SSLContext with SSL_CTX_sess_set_new_cb. Takes ownership (returns 1).
  static int OnNewSession(SSL* ssl, SSL_SESSION* session);


  // OnClientHello records the client's cipher list (for shared_ciphers);
  // installed by SSLContext as the select-certificate callback.
  static enum ssl_select_cert_result_t OnClientHello(
      const SSL_CLIENT_HELLO* hello);
};

}  // namespace sslshim::shim

#endif  // SSLSHIM_SHIM_SSL_SOCKET_H_
