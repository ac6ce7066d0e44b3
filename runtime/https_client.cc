#include "runtime/https_client.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "openssl/x509.h"
#include "runtime/dial.h"
#include "runtime/http_response_parser.h"
#include "runtime/url.h"
#include "shim/errors.h"
#include "shim/peercert.h"
#include "shim/ssl_context.h"
#include "shim/ssl_socket.h"

namespace sslshim::runtime {
namespace {

constexpr size_t kReadChunk = 16 * 1024;

// Annotate returns `status` with "<prefix>: " before its message, keeping the
// code and every payload (error kind, verify code and message).
absl::Status Annotate(const absl::Status& status, absl::string_view prefix) {
  absl::Status out(status.code(), absl::StrCat(prefix, ": ", status.message()));
  status.ForEachPayload([&out](absl::string_view url, const absl::Cord& payload) {
    out.SetPayload(url, payload);
  });
  return out;
}

absl::Status Timeout(absl::string_view message) {
  return shim::MakeError(shim::ErrorKind::kTimeoutError,
                         absl::StatusCode::kDeadlineExceeded, message);
}

// Budget tracks the per-operation timeout against the overall deadline.
struct Budget {
  absl::Duration timeout;
  absl::Time deadline = absl::InfiniteFuture();
  absl::Duration deadline_length = absl::InfiniteDuration();

  // Next returns the time allowed for the next operation, or
  // DeadlineExceeded when the overall deadline has passed.
  absl::StatusOr<absl::Duration> Next(absl::Duration per_op) const {
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) return DeadlineError();
    return std::min(per_op, left);
  }
  // Explain turns a timeout of an operation that was given `allowed` (by
  // Next) into the right message: the overall deadline when that was what
  // cut the operation short, else the per-operation timeout (named unless
  // the message already does).
  absl::Status Explain(const absl::Status& s, absl::Duration per_op,
                       absl::Duration allowed, bool name_timeout = true) const {
    if (s.code() != absl::StatusCode::kDeadlineExceeded) return s;
    if (allowed < per_op) return DeadlineError();
    if (!name_timeout) return s;
    return Annotate(s, absl::StrCat("timeout ", absl::FormatDuration(per_op)));
  }
  absl::Status DeadlineError() const {
    return Timeout(absl::StrCat("overall deadline of ",
                                absl::FormatDuration(deadline_length), " exceeded"));
  }
};

// Connection is one plain or TLS connection; owns its fd.
class Connection {
 public:
  explicit Connection(int fd) : fd_(fd) {}
  explicit Connection(std::unique_ptr<shim::SSLSocket> tls) : tls_(std::move(tls)) {}
  ~Connection() {
    if (fd_ >= 0) close(fd_);
  }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  shim::SSLSocket* tls() const { return tls_.get(); }

  absl::Status WriteAll(absl::string_view data, absl::Duration timeout) {
    if (tls_ != nullptr) {
      absl::Status s = tls_->settimeout(timeout);
      if (s.ok()) s = tls_->sendall(data);
      return s;
    }
    while (!data.empty()) {
      absl::Status s = Wait(POLLOUT, timeout, "write");
      if (!s.ok()) return s;
      ssize_t n = send(fd_, data.data(), data.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (n < 0) return absl::UnavailableError(std::strerror(errno));
      data.remove_prefix(static_cast<size_t>(n));
    }
    return absl::OkStatus();
  }

  // Read returns up to kReadChunk bytes, "" at EOF.
  absl::StatusOr<std::string> Read(absl::Duration timeout) {
    if (tls_ != nullptr) {
      absl::Status s = tls_->settimeout(timeout);
      if (!s.ok()) return s;
      return tls_->recv(kReadChunk);
    }
    std::string buf(kReadChunk, '\0');
    for (;;) {
      absl::Status s = Wait(POLLIN, timeout, "read");
      if (!s.ok()) return s;
      ssize_t n = recv(fd_, buf.data(), buf.size(), MSG_DONTWAIT);
      if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (n < 0) return absl::UnavailableError(std::strerror(errno));
      buf.resize(static_cast<size_t>(n));
      return buf;
    }
  }

 private:
  absl::Status Wait(short events, absl::Duration timeout, absl::string_view op) {
    const absl::Time until = absl::Now() + timeout;
    for (;;) {
      const int64_t ms = absl::ToInt64Milliseconds(until - absl::Now());
      if (ms <= 0) return Timeout(absl::StrCat("The ", op, " operation timed out"));
      pollfd pfd{fd_, events, 0};
      const int r = poll(&pfd, 1, static_cast<int>(ms));
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) return absl::UnavailableError(std::strerror(errno));
      if (r > 0) return absl::OkStatus();
    }
  }

  int fd_ = -1;
  std::unique_ptr<shim::SSLSocket> tls_;
};

// BuildTlsContext makes the client context `request` asks for.
absl::StatusOr<std::shared_ptr<shim::SSLContext>> BuildTlsContext(
    const ClientRequest& request, const ClientDefaults& defaults) {
  const bool verify = request.verify.is_set() ? request.verify.verify() : defaults.verify;
  absl::StatusOr<std::shared_ptr<shim::SSLContext>> ctx =
      shim::SSLContext::Create(shim::PROTOCOL_TLS_CLIENT);
  if (!ctx.ok()) return ctx.status();
  if (verify) {
    const shim::Source& ca =
        request.verify.ca().empty() ? defaults.ca_bundle : request.verify.ca();
    if (ca.empty()) {
      return absl::FailedPreconditionError(
          "verify is on but no CA bundle is configured (set "
          "ClientDefaults::ca_bundle, or pass verify = <CA path or reader>)");
    }
    absl::Status s = (*ctx)->load_verify_locations({.cafile = ca});
    if (!s.ok()) return Annotate(s, "verify");
  } else {
    (*ctx)->set_check_hostname(false);
    absl::Status s = (*ctx)->set_verify_mode(shim::CERT_NONE);
    if (!s.ok()) return s;
  }
  if (!request.cert.cert.empty()) {
    absl::Status s = (*ctx)->load_cert_chain(request.cert.cert, request.cert.key,
                                             request.cert.password);
    if (!s.ok()) return Annotate(s, "cert");
  } else if (!request.cert.key.empty()) {
    return absl::InvalidArgumentError("cert: a key was given without a certificate");
  }
  return ctx;
}

// Hop is one request on the redirect chain.
struct Hop {
  std::string method;
  Url url;
  HeaderList headers;  // The caller's headers (adjusted by redirects).
  std::string body;
};

// SerializeRequest writes the request head and body. Errors: InvalidArgument
// for a bad header or a Content-Length that does not match the body.
absl::StatusOr<std::string> SerializeRequest(const Hop& hop) {
  HeaderList head = {{"Host", hop.url.HostHeader()},
                     {"User-Agent", "sslshim-https-client/1"},
                     {"Accept", "*/*"},
                     {"Connection", "close"}};
  for (const auto& [name, value] : hop.headers.fields()) {
    if (!IsHttpToken(name)) {
      return absl::InvalidArgumentError(
          absl::StrCat("invalid header name '", absl::CHexEscape(name), "'"));
    }
    if (value.find_first_of(std::string("\r\n\0", 3)) != std::string::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("header '", name, "' has a CR, LF or NUL in its value"));
    }
    if (absl::EqualsIgnoreCase(name, "Transfer-Encoding")) {
      return absl::InvalidArgumentError(
          "Transfer-Encoding is not supported: the body is sent with "
          "Content-Length");
    }
    if (absl::EqualsIgnoreCase(name, "Content-Length")) {
      size_t n = 0;
      if (!absl::SimpleAtoi(value, &n) || n != hop.body.size()) {
        return absl::InvalidArgumentError(
            absl::StrCat("Content-Length '", value, "' does not match the body (",
                         hop.body.size(), " bytes); leave it out"));
      }
      continue;
    }
    const bool replaces = absl::EqualsIgnoreCase(name, "Host") ||
                          absl::EqualsIgnoreCase(name, "User-Agent") ||
                          absl::EqualsIgnoreCase(name, "Accept") ||
                          absl::EqualsIgnoreCase(name, "Connection");
    if (replaces) {
      head.Set(name, value);
    } else {
      head.Add(name, value);
    }
  }
  if (!hop.body.empty() || hop.method == "POST" || hop.method == "PUT" ||
      hop.method == "PATCH") {
    head.Add("Content-Length", absl::StrCat(hop.body.size()));
  }
  std::string out = absl::StrCat(hop.method, " ", hop.url.target, " HTTP/1.1\r\n");
  for (const auto& [name, value] : head.fields()) {
    absl::StrAppend(&out, name, ": ", value, "\r\n");
  }
  absl::StrAppend(&out, "\r\n", hop.body);
  return out;
}

// FetchOnce makes one request on a new connection. Errors are annotated
// with the phase; the caller adds the method and URL.
absl::StatusOr<ClientResponse> FetchOnce(const Hop& hop, const ClientRequest& request,
                                         const std::shared_ptr<shim::SSLContext>& ctx,
                                         const Budget& budget) {
  absl::StatusOr<std::string> wire = SerializeRequest(hop);
  if (!wire.ok()) return wire.status();

  const absl::Duration connect_timeout =
      request.connect_timeout.value_or(request.timeout);
  absl::StatusOr<absl::Duration> allowed = budget.Next(connect_timeout);
  if (!allowed.ok()) return allowed.status();
  absl::StatusOr<int> fd = Dial(hop.url.host, hop.url.port, *allowed);
  if (!fd.ok())
    return Annotate(budget.Explain(fd.status(), connect_timeout, *allowed,
                                   /*name_timeout=*/false),
                    "connect");

  std::unique_ptr<Connection> conn;
  if (ctx != nullptr) {
    absl::StatusOr<std::unique_ptr<shim::SSLSocket>> tls = ctx->wrap_socket(
        *fd, {.do_handshake_on_connect = false, .server_hostname = hop.url.host});
    if (!tls.ok()) return Annotate(tls.status(), "TLS setup");  // fd closed.
    conn = std::make_unique<Connection>(*std::move(tls));
    allowed = budget.Next(request.timeout);
    if (!allowed.ok()) return allowed.status();
    absl::Status s = conn->tls()->settimeout(*allowed);
    if (s.ok()) s = conn->tls()->do_handshake();
    if (!s.ok()) {
      return Annotate(budget.Explain(s, request.timeout, *allowed), "TLS handshake");
    }
  } else {
    conn = std::make_unique<Connection>(*fd);
  }

  allowed = budget.Next(request.timeout);
  if (!allowed.ok()) return allowed.status();
  absl::Status s = conn->WriteAll(*wire, *allowed);
  if (!s.ok()) {
    return Annotate(budget.Explain(s, request.timeout, *allowed), "sending the request");
  }

  HttpResponseParser parser({.head_request = hop.method == "HEAD",
                             .max_body_bytes = request.max_response_bytes});
  while (!parser.done()) {
    allowed = budget.Next(request.timeout);
    if (!allowed.ok()) return Annotate(allowed.status(), "reading the response");
    absl::StatusOr<std::string> chunk = conn->Read(*allowed);
    if (!chunk.ok()) {
      return Annotate(budget.Explain(chunk.status(), request.timeout, *allowed),
                      "reading the response");
    }
    s = chunk->empty() ? parser.FinishAtEof() : parser.Feed(*chunk);
    if (!s.ok()) return Annotate(s, "reading the response");
  }

  ParsedResponse parsed = parser.TakeResponse();
  ClientResponse out;
  out.status_code = parsed.status_code;
  out.reason = std::move(parsed.reason);
  out.http_version = absl::StrCat("HTTP/", parsed.http_major, ".", parsed.http_minor);
  out.headers = std::move(parsed.headers);
  out.body = std::move(parsed.body);
  out.url = hop.url.ToString();
  if (shim::SSLSocket* tls = conn->tls()) {
    out.tls_version = tls->version().value_or("");
    if (absl::optional<shim::CipherInfo> c = tls->cipher()) out.cipher = c->name;
    absl::StatusOr<std::string> der = tls->getpeercert(shim::binary_form);
    if (der.ok() && !der->empty()) {
      out.peer_cert_der = *std::move(der);
      const uint8_t* p = reinterpret_cast<const uint8_t*>(out.peer_cert_der.data());
      bssl::UniquePtr<X509> x509(
          d2i_X509(nullptr, &p, static_cast<long>(out.peer_cert_der.size())));
      if (x509 != nullptr) out.peer_cert = shim::DecodeCertificate(x509.get());
      shim::ClearErrorQueue();
    }
  }
  return out;
}

bool IsRedirect(int status) {
  return status == 301 || status == 302 || status == 303 || status == 307 ||
         status == 308;
}

// NextHop applies requests' redirect rules (rebuild_method, body and
// Authorization handling) to `hop` for a response `status` at `location`.
absl::StatusOr<Hop> NextHop(const Hop& hop, int status, absl::string_view location) {
  absl::StatusOr<Url> url = ResolveUrl(hop.url, location);
  if (!url.ok()) {
    return Annotate(url.status(), absl::StrCat("redirect (", status, ") Location"));
  }
  Hop next{.method = hop.method,
           .url = *std::move(url),
           .headers = hop.headers,
           .body = hop.body};
  if ((status == 303 && next.method != "HEAD") ||
      (status == 302 && next.method != "HEAD") ||
      (status == 301 && next.method == "POST")) {
    next.method = "GET";
  }
  if (status != 307 && status != 308) {
    next.body.clear();
    next.headers.Remove("Content-Length");
    next.headers.Remove("Content-Type");
  }
  const bool other_host = next.url.host != hop.url.host;
  if (other_host || (hop.url.scheme == "https" && next.url.scheme == "http")) {
    next.headers.Remove("Authorization");
  }
  if (other_host || next.url.port != hop.url.port) next.headers.Remove("Host");
  return next;
}

}  // namespace

absl::StatusOr<ClientResponse> HttpsClient::Fetch(const ClientRequest& request) const {
  const absl::Time start = absl::Now();
  // Escaped: a CR/LF in a caller's method or URL must not split the message.
  const std::string what = absl::StrCat(absl::CHexEscape(request.method), " ",
                                        absl::CHexEscape(request.url));
  if (!IsHttpToken(request.method)) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": invalid method '", absl::CHexEscape(request.method), "'"));
  }
  absl::StatusOr<Url> url = ParseUrl(request.url);
  if (!url.ok()) return Annotate(url.status(), request.method);

  Budget budget{.timeout = request.timeout};
  if (request.deadline.has_value()) {
    budget.deadline = start + *request.deadline;
    budget.deadline_length = *request.deadline;
  }
  Hop hop{.method = request.method,
          .url = *std::move(url),
          .headers = request.headers,
          .body = request.body};
  std::shared_ptr<shim::SSLContext> tls_context;  // Built on first https hop.
  std::vector<std::string> history;
  std::set<std::string> seen;
  for (;;) {
    const std::string hop_name = absl::StrCat(hop.method, " ", hop.url.ToString());
    seen.insert(hop_name);
    if (hop.url.scheme == "https" && tls_context == nullptr) {
      absl::StatusOr<std::shared_ptr<shim::SSLContext>> ctx =
          BuildTlsContext(request, defaults_);
      if (!ctx.ok()) return Annotate(ctx.status(), hop_name);
      tls_context = *std::move(ctx);
    }
    absl::StatusOr<ClientResponse> response = FetchOnce(
        hop, request, hop.url.scheme == "https" ? tls_context : nullptr, budget);
    if (!response.ok()) return Annotate(response.status(), hop_name);
    absl::optional<std::string> location = response->headers.Get("Location");
    if (!request.allow_redirects || !IsRedirect(response->status_code) ||
        !location.has_value()) {
      response->history = std::move(history);
      response->elapsed = absl::Now() - start;
      return response;
    }
    history.push_back(hop.url.ToString());
    if (static_cast<int>(history.size()) > request.max_redirects) {
      return absl::ResourceExhaustedError(
          absl::StrCat(what, ": exceeded ", request.max_redirects,
                       " redirects (last: ", hop.url.ToString(), " -> ", *location, ")"));
    }
    absl::StatusOr<Hop> next = NextHop(hop, response->status_code, *location);
    if (!next.ok()) return Annotate(next.status(), hop_name);
    const std::string next_name = absl::StrCat(next->method, " ", next->url.ToString());
    if (seen.count(next_name) > 0) {
      history.push_back(next->url.ToString());
      return absl::FailedPreconditionError(
          absl::StrCat(what, ": redirect loop: ", absl::StrJoin(history, " -> ")));
    }
    hop = *std::move(next);
  }
}

}  // namespace sslshim::runtime
