// http_request.h
// -----------------------------------------------------------------------------
// The HTTPS server's handler interface: the request a handler receives (with
// the verified TLS client identity), the response it returns, and the
// serialisation of that response as HTTP/1.1 bytes.
//
//   HttpHandler handler = [](const HttpRequest& req)
//       -> absl::StatusOr<HttpResponse> {
//     if (!req.client.verified) return HttpResponse{.status = 403};
//     return HttpResponse{.status = 200,
//                         .headers = {{"Content-Type", "text/plain"}},
//                         .body = "hello " + req.client.subject + "\n"};
//   };
//
// Handlers are synchronous: the server calls them on its event-loop thread,
// one request at a time per loop, so a slow handler delays every connection
// of that loop. A handler must not block on I/O; hand long work elsewhere.
// A handler returning an error status becomes "500 Internal Server Error"
// (the status message is not sent to the client).

#ifndef SSLSHIM_RUNTIME_HTTP_REQUEST_H_
#define SSLSHIM_RUNTIME_HTTP_REQUEST_H_

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "shim/py_value.h"

namespace sslshim::runtime {

// HttpHeaders keeps header fields in arrival order, names as sent.
using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

// ClientIdentity is what TLS established about the client.
struct ClientIdentity {
  // verified is true when the client presented a certificate and the server
  // verified it (verify mode CERT_OPTIONAL or CERT_REQUIRED).
  bool verified = false;
  // peercert is SSLSocket::getpeercert(): CPython's dictionary for a
  // verified certificate, None when the client sent none, {} under CERT_NONE.
  shim::PyValue peercert;
  // subject is the certificate's subject in RFC 2253 form
  // ("CN=client.test,O=Example"), "" when there is no certificate.
  std::string subject;
};

// HttpRequest is one parsed request.
struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string target;  // Request target as sent: "/path?query".
  int version_major = 1;
  int version_minor = 1;
  HttpHeaders headers;
  std::string body;  // Chunked bodies arrive decoded.
  // The connection's client identity; valid for the duration of the call.
  const ClientIdentity* client = nullptr;
  std::string peer;  // "127.0.0.1:54321".

  // Header returns the first value of header `name` (case-insensitive), or
  // "" when absent.
  absl::string_view Header(absl::string_view name) const;
};

// HttpResponse is what a handler returns. The server adds Content-Length
// (from body), Date, and Connection when the connection is closing; handler
// headers with those names are dropped.
struct HttpResponse {
  int status = 200;
  HttpHeaders headers;
  std::string body;
};

// HttpHandler handles one request; see the banner for the threading rules.
using HttpHandler =
    std::function<absl::StatusOr<HttpResponse>(const HttpRequest&)>;

// ReasonPhrase returns the standard reason phrase for `status`
// ("Not Found"), or "Unknown" for codes it does not know.
absl::string_view ReasonPhrase(int status);

// AppendResponse appends `response` as HTTP/1.1 bytes to `out`: status line,
// handler headers (minus Content-Length/Connection/Date/Transfer-Encoding
// and any name or value with CR, LF or NUL, which would inject headers),
// `date` (an IMF-fixdate, omitted when empty), Content-Length,
// "Connection: close" when `close`, or "Connection: keep-alive" when
// `keep_alive_header` (HTTP/1.0 keep-alive). With `head_only` the body is
// omitted (HEAD) but Content-Length still describes it.
void AppendResponse(const HttpResponse& response, absl::string_view date,
                    bool close, bool keep_alive_header, bool head_only,
                    std::string* out);

// SimpleResponse builds a text/plain response whose body is the reason
// phrase and a newline (used for the server's own 400/408/413/431/500).
HttpResponse SimpleResponse(int status);

}  // namespace sslshim::runtime

#endif  // SSLSHIM_RUNTIME_HTTP_REQUEST_H_
