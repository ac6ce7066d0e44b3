// raw_tls.h (testonly)
// -----------------------------------------------------------------------------
// A misbehaving TLS peer for the adversarial suite: raw BoringSSL over a
// blocking loopback socket (no facade), so a test can stop at any point of
// the handshake, write records the facade would never write, flood
// KeyUpdates, close with FIN or RST, and read the server's raw answer.
//
//   absl::StatusOr<std::unique_ptr<RawTls>> c =
//       RawTls::Connect(port, {.client_cert = true});
//   (*c)->Write("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
//   std::string reply = (*c)->ReadUntilClose();
//   (*c)->Close(CloseHow::kRst);
//
// Every socket has SO_RCVTIMEO/SO_SNDTIMEO set, so no call blocks longer
// than the options' timeout. Thread-safety: one RawTls per thread.

#ifndef SSLSHIM_TESTS_ADVERSARIAL_RAW_TLS_H_
#define SSLSHIM_TESTS_ADVERSARIAL_RAW_TLS_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "openssl/ssl.h"

namespace sslshim::adversarial {

// RawOptions configures one raw client connection.
struct RawOptions {
  bool client_cert = false;  // Present the test PKI's client chain.
  uint16_t min_version = TLS1_2_VERSION;
  uint16_t max_version = TLS1_3_VERSION;
  absl::Duration timeout = absl::Seconds(5);  // Per send/recv call.
};

// CloseHow: an orderly FIN, or an abortive RST (SO_LINGER 0).
enum class CloseHow { kFin, kRst };

// ConnectTcpLoopback connects to 127.0.0.1:port with the send/receive
// timeouts set. Errors: Unavailable with errno's text.
absl::StatusOr<int> ConnectTcpLoopback(int port, absl::Duration timeout);

// CloseFd closes `fd` with a FIN or (kRst) a reset.
void CloseFd(int fd, CloseHow how);

// LocalName is "127.0.0.1:<port>" of the socket's own end: the peer name
// in the server's connection event.
std::string LocalName(int fd);

// ClientHelloBytes returns the bytes of a complete first flight (the
// ClientHello record) as a fresh client with `options` would send it.
std::string ClientHelloBytes(const RawOptions& options);

// SendAll writes every byte of `data` to the plain socket `fd`. Errors:
// Unavailable with errno's text (EPIPE/ECONNRESET once the server closed).
absl::Status SendAll(int fd, absl::string_view data);

// RecvUntilClose reads the plain socket until EOF, an error or `max_wait`
// and returns what arrived (raw bytes: TLS records or alerts).
std::string RecvUntilClose(int fd, absl::Duration max_wait);

class RawTls {
 public:
  // Connect opens a TCP connection and completes a handshake. Errors:
  // Unavailable (connect) or Aborted with BoringSSL's error string.
  static absl::StatusOr<std::unique_ptr<RawTls>> Connect(
      int port, const RawOptions& options = {});

  // The destructor closes with a FIN when Close was not called.
  ~RawTls();
  RawTls(const RawTls&) = delete;
  RawTls& operator=(const RawTls&) = delete;

  SSL* ssl() { return ssl_.get(); }
  // fd is the socket, for raw writes below the TLS layer (owned by this).
  int fd() const { return fd_; }

  // Write SSL_writes all of `data`. Errors: Aborted with the SSL error.
  absl::Status Write(absl::string_view data);
  // WriteInRecords writes `data` as records of at most `record_size` bytes.
  absl::Status WriteInRecords(absl::string_view data, size_t record_size);
  // ReadSome returns the next decrypted bytes; "" at close_notify/EOF.
  // Errors: Aborted with the SSL error (alerts, resets, timeouts).
  absl::StatusOr<std::string> ReadSome();
  // ReadUntilClose reads until EOF, an error or `max_wait`.
  std::string ReadUntilClose(absl::Duration max_wait = absl::Seconds(5));

  // Close closes the socket (no close_notify) with a FIN or a RST.
  void Close(CloseHow how = CloseHow::kFin);

 private:
  RawTls(bssl::UniquePtr<SSL_CTX> ctx, bssl::UniquePtr<SSL> ssl, int fd)
      : ctx_(std::move(ctx)), ssl_(std::move(ssl)), fd_(fd) {}

  bssl::UniquePtr<SSL_CTX> ctx_;
  bssl::UniquePtr<SSL> ssl_;
  int fd_;
};

// SslErrorText describes the last SSL_* failure of `ssl` for `ret`
// ("SSL_ERROR_SSL: ...:TOO_MANY_KEY_UPDATES").
std::string SslErrorText(SSL* ssl, int ret);

}  // namespace sslshim::adversarial

#endif  // SSLSHIM_TESTS_ADVERSARIAL_RAW_TLS_H_
