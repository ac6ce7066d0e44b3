// url.h
// -----------------------------------------------------------------------------
// The few URL operations the HTTPS client needs: parsing an absolute http://
// or https:// URL into host, port and request target, and resolving a
// redirect's Location against the URL that was fetched.
//
//   absl::StatusOr<Url> url = ParseUrl("https://[::1]:8443/a/b?x=1");
//   // url->scheme == "https", url->host == "::1", url->port == 8443,
//   // url->target == "/a/b?x=1", url->HostHeader() == "[::1]:8443"
//   absl::StatusOr<Url> next = ResolveUrl(*url, "../c?y");  // https://[::1]:8443/c?y
//
// Deliberately strict: userinfo ("user:pass@host") is refused (credentials
// belong in headers, and it hides the real host), a fragment is dropped from
// redirect targets but refused in a request URL (it is never sent, so it is
// almost always a mistake), and the host must be a DNS name or an IP literal
// (IPv6 in brackets).

#ifndef SSLSHIM_RUNTIME_URL_H_
#define SSLSHIM_RUNTIME_URL_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace sslshim::runtime {

// Url is a parsed absolute http(s) URL.
struct Url {
  std::string scheme;  // "http" or "https" (lower case).
  // The host as used for DNS, SNI and hostname checking: a lower-cased DNS
  // name, or an IP literal without brackets ("127.0.0.1", "::1").
  std::string host;
  bool host_is_ip = false;
  int port = 0;              // Explicit port, or 80 / 443 from the scheme.
  bool default_port = true;  // No port was given (or it equals the default).
  std::string target;        // Path and query, always starting with '/'.

  // HostHeader returns the Host header value: host (IPv6 bracketed) plus
  // ":port" unless the port is the scheme's default.
  std::string HostHeader() const;

  // Origin returns "scheme://HostHeader()".
  std::string Origin() const;

  // ToString returns Origin() + target.
  std::string ToString() const;
};

// ParseUrl parses an absolute URL. Errors (InvalidArgument, naming the URL
// and the problem): empty input, scheme other than http/https, missing host,
// userinfo, bad port (non-digits, 0, > 65535), bad IPv6 literal, a host with
// characters outside [A-Za-z0-9.-_], a fragment, spaces or control
// characters anywhere.
absl::StatusOr<Url> ParseUrl(absl::string_view url);

// ResolveUrl resolves `reference` (a redirect's Location: absolute URL,
// "//host/path", "/path", "relative/path", "?query") against `base` as RFC
// 3986 section 5.2 says, dropping any fragment and removing "." and ".."
// segments. Errors: those of ParseUrl for the resolved URL.
absl::StatusOr<Url> ResolveUrl(const Url& base, absl::string_view reference);

}  // namespace sslshim::runtime

#endif  // SSLSHIM_RUNTIME_URL_H_
