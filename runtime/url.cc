#include "runtime/url.h"

#include <arpa/inet.h>

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace sslshim::runtime {
namespace {

absl::Status Bad(absl::string_view url, absl::string_view why) {
  return absl::InvalidArgumentError(
      absl::StrCat("invalid URL '", absl::CHexEscape(url), "': ", why));
}

int DefaultPort(absl::string_view scheme) { return scheme == "https" ? 443 : 80; }

bool IsHostChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' ||
         c == '_';
}

// PercentEncodeNonAscii escapes bytes >= 0x80 in a request target (as
// requests does for non-ASCII paths); everything else is sent as given.
std::string PercentEncodeNonAscii(absl::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (c >= 0x80) {
      absl::StrAppendFormat(&out, "%%%02X", c);
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  return out;
}

// RemoveDotSegments is RFC 3986 section 5.2.4 on a path (no query).
std::string RemoveDotSegments(absl::string_view path) {
  std::vector<absl::string_view> out;
  std::vector<absl::string_view> segments = absl::StrSplit(path, '/');
  // segments[0] is "" for an absolute path.
  for (size_t i = 1; i < segments.size(); ++i) {
    absl::string_view seg = segments[i];
    const bool last = i + 1 == segments.size();
    if (seg == ".") {
      if (last) out.push_back("");
    } else if (seg == "..") {
      if (!out.empty()) out.pop_back();
      if (last) out.push_back("");
    } else {
      out.push_back(seg);
    }
  }
  return absl::StrCat("/", absl::StrJoin(out, "/"));
}

// SplitQuery splits a target into path and "?query" (query keeps its '?').
std::pair<absl::string_view, absl::string_view> SplitQuery(absl::string_view t) {
  size_t q = t.find('?');
  if (q == absl::string_view::npos) return {t, ""};
  return {t.substr(0, q), t.substr(q)};
}

}  // namespace

std::string Url::HostHeader() const {
  std::string h = absl::StrContains(host, ':') ? absl::StrCat("[", host, "]") : host;
  if (!default_port) absl::StrAppend(&h, ":", port);
  return h;
}

std::string Url::Origin() const { return absl::StrCat(scheme, "://", HostHeader()); }

std::string Url::ToString() const { return absl::StrCat(Origin(), target); }

absl::StatusOr<Url> ParseUrl(absl::string_view url) {
  if (url.empty()) return Bad(url, "empty");
  for (unsigned char c : url) {
    if (c <= 0x20 || c == 0x7f) {
      return Bad(url, "contains a space or control character (percent-encode it)");
    }
  }
  size_t sep = url.find("://");
  if (sep == absl::string_view::npos) {
    return Bad(url, "not an absolute URL (expected https://host/path)");
  }
  Url out;
  out.scheme = absl::AsciiStrToLower(url.substr(0, sep));
  if (out.scheme != "http" && out.scheme != "https") {
    return Bad(
        url, absl::StrCat("unsupported scheme '", out.scheme, "' (only http and https)"));
  }
  absl::string_view rest = url.substr(sep + 3);
  size_t end = rest.find_first_of("/?#");
  absl::string_view authority = rest.substr(0, end);
  absl::string_view target =
      end == absl::string_view::npos ? absl::string_view() : rest.substr(end);
  if (absl::StrContains(target, '#')) {
    return Bad(url, "has a fragment ('#...'), which is never sent to the server");
  }
  if (absl::StrContains(authority, '@')) {
    return Bad(url,
               "has userinfo ('user@host'); put credentials in an "
               "Authorization header instead");
  }
  absl::string_view host;
  absl::string_view port;
  bool has_port = false;
  if (absl::StartsWith(authority, "[")) {
    size_t close = authority.find(']');
    if (close == absl::string_view::npos) return Bad(url, "unterminated '[' in host");
    host = authority.substr(1, close - 1);
    absl::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') return Bad(url, "unexpected text after ']'");
      port = after.substr(1);
      has_port = true;
    }
    in6_addr a6;
    if (inet_pton(AF_INET6, std::string(host).c_str(), &a6) != 1) {
      return Bad(url, absl::StrCat("'[", host, "]' is not an IPv6 address"));
    }
    out.host_is_ip = true;
  } else {
    size_t colon = authority.find(':');
    host = authority.substr(0, colon);
    if (colon != absl::string_view::npos) {
      port = authority.substr(colon + 1);
      has_port = true;
      if (absl::StrContains(port, ':')) {
        return Bad(url, "IPv6 addresses must be in brackets ('[::1]')");
      }
    }
    if (host.empty()) return Bad(url, "missing host");
    for (char c : host) {
      if (!IsHostChar(c)) {
        return Bad(url, absl::StrCat("host '", absl::CHexEscape(host),
                                     "' has a character outside [A-Za-z0-9.-_]"));
      }
    }
    in_addr a4;
    if (inet_pton(AF_INET, std::string(host).c_str(), &a4) == 1) {
      out.host_is_ip = true;
    } else {
      // "127.1" or "0x7f.1" would reach the resolver as an IPv4 address while
      // hostname checking treats it as a name: refuse the ambiguity.
      absl::string_view last = host.substr(host.rfind('.') + 1);
      if (last.empty() && host.size() > 1) {
        last = host.substr(0, host.size() - 1);
        last = last.substr(last.rfind('.') + 1);
      }
      bool numeric = !last.empty();
      for (char c : last) numeric = numeric && absl::ascii_isdigit(c);
      if (numeric || absl::StartsWithIgnoreCase(last, "0x")) {
        return Bad(url, absl::StrCat("host '", host,
                                     "' looks numeric but is not a dotted-quad "
                                     "IPv4 address"));
      }
    }
  }
  if (host.empty()) return Bad(url, "missing host");
  out.host = absl::AsciiStrToLower(host);
  out.port = DefaultPort(out.scheme);
  if (has_port && !port.empty()) {
    int p = 0;
    for (char c : port) {
      if (!absl::ascii_isdigit(c)) return Bad(url, "port is not a number");
    }
    if (port.size() > 5 || !absl::SimpleAtoi(port, &p) || p < 1 || p > 65535) {
      return Bad(url, "port out of range (1-65535)");
    }
    out.port = p;
  }
  out.default_port = out.port == DefaultPort(out.scheme);
  if (target.empty()) {
    out.target = "/";
  } else if (target[0] == '?') {
    out.target = absl::StrCat("/", PercentEncodeNonAscii(target));
  } else {
    out.target = PercentEncodeNonAscii(target);
  }
  return out;
}

absl::StatusOr<Url> ResolveUrl(const Url& base, absl::string_view reference) {
  reference = reference.substr(0, reference.find('#'));
  // An absolute URL has a scheme: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":".
  size_t colon = reference.find(':');
  if (colon != absl::string_view::npos && colon > 0 &&
      absl::ascii_isalpha(reference[0])) {
    bool scheme = true;
    for (char c : reference.substr(0, colon)) {
      scheme = scheme && (absl::ascii_isalnum(c) || c == '+' || c == '-' || c == '.');
    }
    if (scheme) return ParseUrl(reference);
  }
  if (absl::StartsWith(reference, "//")) {
    return ParseUrl(absl::StrCat(base.scheme, ":", reference));
  }
  auto [base_path, base_query] = SplitQuery(base.target);
  std::string target;
  if (reference.empty()) {
    target = base.target;
  } else if (reference[0] == '/') {
    auto [path, query] = SplitQuery(reference);
    target = absl::StrCat(RemoveDotSegments(path), query);
  } else if (reference[0] == '?') {
    target = absl::StrCat(base_path, reference);
  } else {
    auto [path, query] = SplitQuery(reference);
    absl::string_view dir = base_path.substr(0, base_path.rfind('/') + 1);
    target = absl::StrCat(RemoveDotSegments(absl::StrCat(dir, path)), query);
  }
  return ParseUrl(absl::StrCat(base.Origin(), target));
}

}  // namespace sslshim::runtime
