// https_client.h
// -----------------------------------------------------------------------------
// HttpsClient: the role of Python's `requests.request(method, url, headers=,
// data=, verify=, cert=, timeout=)` and App Engine's urlfetch, over the ssl
// facade. One HTTP/1.1 request per connection ("Connection: close").
//
//   HttpsClient client({.verify = true, .ca_bundle =
//   "/etc/ssl/certs/ca-certificates.crt"}); absl::StatusOr<ClientResponse> r =
//   client.Fetch({
//       .method = "POST",
//       .url = "https://api.example:8443/v1/items?x=1",
//       .headers = {{"Content-Type", "application/json"}},
//       .body = R"({"name": "a"})",
//       .verify = ssl::StringIO(ca_pem),                 // or true/false/path
//       .cert = {.cert = ssl::StringIO(record.cert),     // mutual TLS
//                .key = ssl::StringIO(record.key_str)},
//       .timeout = absl::Seconds(5)});
//   if (!r.ok()) return r.status();   // "POST https://api.example:8443/...: ..."
//   r->status_code;  r->headers.Get("content-type");  r->body;
//   r->tls_version;  r->peer_cert;   // getpeercert()-shaped PyValue
//
// Verification: with verify on (the default), the server's chain must lead to
// the CA bundle and its certificate must match the URL's host (DNS names
// against DNS SANs, IP literals against IP SANs; no SNI for IP literals).
// `verify` unset takes ClientDefaults (the runtime fills them from the
// PYTHONHTTPSVERIFY toggle and its default CA bundle); an explicit value
// always wins.
//
// Errors: every failure is an absl::Status whose message starts with
// "<METHOD> <url>: <phase>: " and keeps the facade's payloads (error kind,
// X509 verify code and message; shim/errors.h):
//   InvalidArgument     bad URL, method or header (nothing is sent)
//   NotFound            DNS: no such host (EAI_NONAME)
//   Unavailable         DNS server failure; connection refused/unreachable;
//                       the server closed without sending any response
//   DeadlineExceeded    connect, handshake or read timeout, or the overall
//                       deadline (kind TimeoutError)
//   Unauthenticated     certificate verification failed (kind
//                       SSLCertVerificationError, verify code attached) or
//                       hostname mismatch (kind CertificateError)
//   Aborted / others    other TLS failures as the facade reports them (e.g.
//                       an alert because the server wanted a client cert)
//   DataLoss            malformed HTTP response (status line, header, chunk
//                       framing), or premature EOF mid-response
//   ResourceExhausted   body over max_response_bytes, headers over 80 KiB,
//                       more than max_redirects redirects
//   FailedPrecondition  redirect loop; verify on with no CA bundle configured
//
// Thread-safety: an HttpsClient is immutable; Fetch may be called from any
// number of threads at once. Sources (readers) in a request are read during
// Fetch and must be safe to read from the calling thread.

#ifndef SSLSHIM_RUNTIME_HTTPS_CLIENT_H_
#define SSLSHIM_RUNTIME_HTTPS_CLIENT_H_

#include <cstddef>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"
#include "runtime/header_list.h"
#include "shim/credentials.h"
#include "shim/py_value.h"
#include "shim/reader.h"

namespace sslshim::runtime {

// ClientDefaults: what `verify` means when a request leaves it unset, and
// the CA bundle that `verify = true` uses. The runtime builds this from the
// PYTHONHTTPSVERIFY toggle and its default CA bundle.
struct ClientDefaults {
  bool verify = true;
  shim::Source ca_bundle;
};

// VerifySetting is requests' `verify=`: unset (use ClientDefaults), true
// (verify against ClientDefaults::ca_bundle), false (no verification, no
// hostname check), or a CA bundle as a path or reader. Converts implicitly:
// `.verify = false`, `.verify = "/etc/app/ca.pem"`, `.verify = StringIO(pem)`.
class VerifySetting {
 public:
  VerifySetting() = default;
  VerifySetting(bool verify) : set_(true), verify_(verify) {}
  VerifySetting(const char* ca_path) : VerifySetting(shim::Source(ca_path)) {}
  VerifySetting(std::string ca_path) : VerifySetting(shim::Source(std::move(ca_path))) {}
  VerifySetting(std::shared_ptr<shim::Reader> ca)
      : VerifySetting(shim::Source(std::move(ca))) {}
  VerifySetting(shim::Source ca) : set_(true), verify_(true), ca_(std::move(ca)) {}

  // is_set is false for the default-constructed (unset) value.
  bool is_set() const { return set_; }
  // verify: whether to verify (meaningful when is_set()).
  bool verify() const { return verify_; }
  // ca: the explicit CA bundle, or empty for `true` / unset.
  const shim::Source& ca() const { return ca_; }

 private:
  bool set_ = false;
  bool verify_ = true;
  shim::Source ca_;
};

// ClientCert is requests' `cert=(cert, key)`: this side's certificate chain
// (leaf first) and private key, as paths or readers; `key` may be empty when
// `cert` holds both. `password` decrypts an encrypted key. Empty `cert`
// means no client certificate.
struct ClientCert {
  shim::Source cert;
  shim::Source key;
  shim::Password password;
};

// ClientRequest: one request and how to make it.
struct ClientRequest {
  // An HTTP method token: GET, POST, PUT, DELETE, HEAD, PATCH, OPTIONS (any
  // RFC 7230 token is sent as given).
  std::string method = "GET";
  // Absolute http:// or https:// URL (see runtime/url.h for what is refused).
  std::string url;
  // Extra headers, sent in order after Host. Host, User-Agent, Accept and
  // Connection replace the defaults; Content-Length must match `body`;
  // Transfer-Encoding is refused (the body is always sent with a length).
  HeaderList headers;
  // Request body, sent with Content-Length (also "0" for POST/PUT/PATCH).
  std::string body;
  VerifySetting verify;
  ClientCert cert;
  // timeout applies to the connect, the TLS handshake and each read or
  // write, as requests' `timeout=` does. Unlike requests there is no "wait
  // forever": the default is 30 s.
  absl::Duration timeout = absl::Seconds(30);
  // connect_timeout, when set, replaces `timeout` for the TCP connect
  // (requests' `timeout=(connect, read)`).
  absl::optional<absl::Duration> connect_timeout;
  // deadline, when set, bounds the whole Fetch including redirects (as
  // urlfetch's `deadline=`).
  absl::optional<absl::Duration> deadline;
  // allow_redirects: follow 301/302/303/307/308 (off by default, unlike
  // requests; 3xx responses are returned as they are).
  bool allow_redirects = false;
  int max_redirects = 30;
  // max_response_bytes: larger bodies fail with ResourceExhausted.
  size_t max_response_bytes = 32 << 20;
};

// ClientResponse: the final response.
struct ClientResponse {
  int status_code = 0;
  std::string reason;
  std::string http_version;  // "HTTP/1.1"
  HeaderList headers;
  std::string body;
  // url: the URL that gave this response (after redirects).
  std::string url;
  // history: the URLs that answered with a redirect, in order.
  std::vector<std::string> history;
  // TLS details of the final connection; empty for http:// URLs.
  std::string tls_version;  // "TLSv1.3"
  std::string cipher;       // "TLS_AES_128_GCM_SHA256"
  // peer_cert: the server's certificate as getpeercert() shapes it, decoded
  // whether or not it was verified; None for http://.
  shim::PyValue peer_cert;
  std::string peer_cert_der;
  // elapsed: from the start of Fetch to the end of the final response.
  absl::Duration elapsed;
};

class HttpsClient {
 public:
  // Makes a client whose requests fall back to `defaults` for `verify`.
  explicit HttpsClient(ClientDefaults defaults = {}) : defaults_(std::move(defaults)) {}

  // Fetch makes `request` and returns the final response (any status code,
  // including 4xx/5xx and, without allow_redirects, 3xx). Errors: see the
  // banner. Never leaks a descriptor, also on error.
  absl::StatusOr<ClientResponse> Fetch(const ClientRequest& request) const;

  const ClientDefaults& defaults() const { return defaults_; }

 private:
  ClientDefaults defaults_;
};

}  // namespace sslshim::runtime

#endif  // SSLSHIM_RUNTIME_HTTPS_CLIENT_H_
