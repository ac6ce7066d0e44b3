// errors.h
// -----------------------------------------------------------------------------
// The facade's error model. Every failure is an absl::Status whose canonical
// code says what kind of failure it is to a C++ caller, and whose payload
// carries the Python `ssl` exception kind (SSLError, SSLWantReadError, ...) so
// code ported from Python can branch on the same kinds:
//
//   absl::StatusOr<size_t> n = sock->recv_into(buf);
//   if (GetErrorKind(n.status()) == ErrorKind::kSSLWantReadError) {
//     // poll for readability and retry, as Python's SSLWantReadError says.
//   }
//
// Canonical codes used with each kind:
//   SSLError (bad input: credentials, cipher string)  InvalidArgument
//   SSLError (protocol failure, alert from the peer)  Aborted
//   SSLError (misuse: socket closed, no handshake)    FailedPrecondition
//   SSLZeroReturnError (peer sent close_notify)       OutOfRange
//   SSLWantReadError / SSLWantWriteError              Unavailable
//   SSLSyscallError (socket-level error, errno)       Unavailable
//   SSLEOFError (EOF in violation of the protocol)    Aborted
//   SSLCertVerificationError (chain not trusted)      Unauthenticated
//   CertificateError (hostname mismatch)              Unauthenticated
//   TimeoutError (socket timeout, like socket.timeout) DeadlineExceeded
//   OSError (a credential file cannot be read: missing,
//            a directory, a device, EIO; Python's
//            FileNotFoundError, IsADirectoryError...)  NotFound /
//                                                     PermissionDenied /
//                                                     InvalidArgument /
//                                                     Unavailable

#ifndef SSLSHIM_SHIM_ERRORS_H_
#define SSLSHIM_SHIM_ERRORS_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/types/optional.h"

namespace sslshim::shim {

// ErrorKind mirrors the Python `ssl` exception classes (and TimeoutError).
enum class ErrorKind {
  kNone = 0,  // The status is OK.
  kSSLError,
  kSSLZeroReturnError,
  kSSLWantReadError,
  kSSLWantWriteError,
  kSSLSyscallError,
  kSSLEOFError,
  kSSLCertVerificationError,
  kCertificateError,
  kTimeoutError,
  kOSError,
};

// ErrorKindName returns Python's class name for `kind` ("SSLWantReadError"),
// or "None" for kNone.
absl::string_view ErrorKindName(ErrorKind kind);

// MakeError returns a non-OK status with `code`, `message` and `kind` attached.
absl::Status MakeError(ErrorKind kind, absl::StatusCode code,
                       absl::string_view message);

// GetErrorKind returns the kind attached to `status`: kNone for OK, the
// attached kind when there is one, and kSSLError for any other failure.
ErrorKind GetErrorKind(const absl::Status& status);

// WithVerifyResult attaches an X509 verify result (X509_V_ERR_* code and its
// message) to `status` and returns it. Used with SSLCertVerificationError.
absl::Status WithVerifyResult(absl::Status status, long verify_code,
                              absl::string_view verify_message);

// GetVerifyCode returns the X509_V_ERR_* code attached by WithVerifyResult.
absl::optional<long> GetVerifyCode(const absl::Status& status);

// GetVerifyMessage returns the verify message attached by WithVerifyResult,
// e.g. "unable to get local issuer certificate".
absl::optional<std::string> GetVerifyMessage(const absl::Status& status);

// ErrorFromQueue turns BoringSSL's thread-local error queue into one status
// and clears the queue. The message reads like CPython's:
//   "<context>: [SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed"
// naming the library and reason of the first queued error. With an empty
// queue the message is "<context>: <fallback>". Never includes key bytes.
absl::Status ErrorFromQueue(ErrorKind kind, absl::StatusCode code,
                            absl::string_view context,
                            absl::string_view fallback = "unknown error");

// ClearErrorQueue drops any queued BoringSSL errors (call before an operation
// whose failure is judged by its return value).
void ClearErrorQueue();

}  // namespace sslshim::shim

#endif  // SSLSHIM_SHIM_ERRORS_H_
