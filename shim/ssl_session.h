// ssl_session.h
// -----------------------------------------------------------------------------
// SSLSession: Python's ssl.SSLSession, a resumable TLS session a client keeps
// to resume later connections (TLS 1.3 tickets, TLS 1.2 session tickets or
// session IDs).
//
//   absl::StatusOr<std::unique_ptr<SSLSocket>> first =
//       ctx->wrap_socket(fd1, {.server_hostname = "example.com"});
//   (*first)->sendall("ping"); (*first)->recv(4);  // TLS 1.3: the ticket
//                                                  // arrives with data
//   std::shared_ptr<const SSLSession> session = (*first)->session();
//   auto second = ctx->wrap_socket(fd2, {.server_hostname = "example.com",
//                                        .session = session});
//   (*second)->session_reused();  // true when the server accepted it
//
// A session is immutable once made and may be shared by any number of
// sockets and threads. ToBytes/FromBytes move a session between processes
// (the bytes hold the session's master secret: treat them as a key).

#ifndef SSLSHIM_SHIM_SSL_SESSION_H_
#define SSLSHIM_SHIM_SSL_SESSION_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "openssl/ssl.h"

namespace sslshim::shim {

class SSLSession {
 public:
  // Adopts `session` (must not be null).
  explicit SSLSession(bssl::UniquePtr<SSL_SESSION> session)
      : session_(std::move(session)) {}

  // FromBytes parses ToBytes() output. Errors: InvalidArgument (kind
  // SSLError) for bytes that are not a serialized session.
  static absl::StatusOr<std::shared_ptr<const SSLSession>> FromBytes(
      absl::string_view bytes);

  // ToBytes serializes the session (secret material included).
  absl::StatusOr<std::string> ToBytes() const;

  // id is the session ID bytes (may be empty for TLS 1.3 tickets).
  std::string id() const;
  // time is the creation time (Unix seconds); timeout its lifetime (s).
  int64_t time() const;
  int64_t timeout() const;
  // ticket_lifetime_hint is the server's hint (s); has_ticket says whether
  // the session carries a ticket (as opposed to a session ID only).
  uint32_t ticket_lifetime_hint() const;
  bool has_ticket() const;
  // is_resumable: the session can be offered for resumption.
  bool is_resumable() const;

  // native borrows the BoringSSL session (owned by this object).
  SSL_SESSION* native() const { return session_.get(); }

 private:
  bssl::UniquePtr<SSL_SESSION> session_;
};

}  // namespace sslshim::shim

#endif  // SSLSHIM_SHIM_SSL_SESSION_H_
