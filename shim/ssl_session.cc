#include "shim/ssl_session.h"

#include "openssl/mem.h"
#include "shim/errors.h"

namespace sslshim::shim {

absl::StatusOr<std::shared_ptr<const SSLSession>> SSLSession::FromBytes(
    absl::string_view bytes) {
  bssl::UniquePtr<SSL_CTX> ctx(SSL_CTX_new(TLS_method()));
  if (ctx == nullptr) {
    return ErrorFromQueue(ErrorKind::kSSLError, absl::StatusCode::kInternal,
                          "SSL_CTX_new");
  }
  bssl::UniquePtr<SSL_SESSION> session(SSL_SESSION_from_bytes(
      reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), ctx.get()));
  if (session == nullptr) {
    return ErrorFromQueue(ErrorKind::kSSLError,
                          absl::StatusCode::kInvalidArgument,
                          "SSLSession::FromBytes: not a serialized session");
  }
  return std::make_shared<const SSLSession>(std::move(session));
}

absl::StatusOr<std::string> SSLSession::ToBytes() const {
  uint8_t* out = nullptr;
  size_t len = 0;
  if (!SSL_SESSION_to_bytes(session_.get(), &out, &len)) {
    return ErrorFromQueue(ErrorKind::kSSLError, absl::StatusCode::kInternal,
                          "SSL_SESSION_to_bytes");
  }
  std::string bytes(reinterpret_cast<char*>(out), len);
  OPENSSL_free(out);
  return bytes;
}

std::string SSLSession::id() const {
  unsigned len = 0;
  const uint8_t* id = SSL_SESSION_get_id(session_.get(), &len);
  return std::string(reinterpret_cast<const char*>(id), len);
}

int64_t SSLSession::time() const { return SSL_SESSION_get_time(session_.get()); }

int64_t SSLSession::timeout() const {
  return SSL_SESSION_get_timeout(session_.get());
}

uint32_t SSLSession::ticket_lifetime_hint() const {
  return SSL_SESSION_get_ticket_lifetime_hint(session_.get());
}

bool SSLSession::has_ticket() const {
  return SSL_SESSION_has_ticket(session_.get());
}

bool SSLSession::is_resumable() const {
  return SSL_SESSION_is_resumable(session_.get());
}

}  // namespace sslshim::shim
