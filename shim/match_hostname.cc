#include "shim/match_hostname.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/types/optional.h"
#include "absl/types/variant.h"
#include "shim/errors.h"

namespace sslshim::shim {
namespace {

// Repr is Python's repr() of the str `s`.
std::string Repr(absl::string_view s) {
  return PyValue::Str(std::string(s)).ToPythonRepr();
}

absl::Status CertificateError(absl::string_view message) {
  return MakeError(ErrorKind::kCertificateError, absl::StatusCode::kUnauthenticated,
                   message);
}

// Python's ValueError: bad input rather than a mismatch.
absl::Status ValueError(absl::string_view message) {
  return absl::InvalidArgumentError(message);
}

// PackedIp is an address in network byte order (4 or 16 bytes), or the
// ValueError _inet_paton raises.
using PackedIp = absl::variant<std::string, absl::Status>;

// InetPaton is CPython's ssl._inet_paton: a canonical dotted-quad IPv4
// (inet_aton, then inet_ntoa must give the same text back) or any IPv6 text
// inet_pton accepts.
PackedIp InetPaton(absl::string_view name) {
  if (name.find('\0') != absl::string_view::npos) {
    // socket.inet_aton rejects str arguments with NUL before trying.
    return ValueError("embedded null character");
  }
  const std::string text(name);
  in_addr v4 = {};
  if (inet_aton(text.c_str(), &v4) != 0) {
    if (text == inet_ntoa(v4)) {
      return std::string(reinterpret_cast<const char*>(&v4), sizeof(v4));
    }
    return ValueError(absl::StrCat(Repr(name), " is not a quad-dotted IPv4 address."));
  }
  in6_addr v6 = {};
  if (inet_pton(AF_INET6, text.c_str(), &v6) == 1) {
    return std::string(reinterpret_cast<const char*>(&v6), sizeof(v6));
  }
  return ValueError(absl::StrCat(Repr(name), " is neither an IPv4 nor an IP6 address."));
}

// DnsNameMatch is CPython's ssl._dnsname_match: true/false, or the
// CertificateError it raises for a wildcard form it refuses.
absl::variant<bool, absl::Status> DnsNameMatch(absl::string_view dn,
                                               absl::string_view hostname) {
  if (dn.empty()) return false;
  const size_t wildcards = std::count(dn.begin(), dn.end(), '*');
  if (wildcards == 0) return absl::EqualsIgnoreCase(dn, hostname);
  if (wildcards > 1) {
    return CertificateError(
        absl::StrCat("too many wildcards in certificate DNS name: ", Repr(dn), "."));
  }
  const size_t dot = dn.find('.');
  const absl::string_view leftmost = dn.substr(0, dot);
  const absl::string_view remainder =
      dot == absl::string_view::npos ? absl::string_view() : dn.substr(dot + 1);
  if (remainder.find('*') != absl::string_view::npos) {
    return CertificateError(absl::StrCat(
        "wildcard can only be present in the leftmost label: ", Repr(dn), "."));
  }
  if (dot == absl::string_view::npos) {
    return CertificateError(absl::StrCat(
        "sole wildcard without additional labels are not support: ", Repr(dn), "."));
  }
  if (leftmost != "*") {
    return CertificateError(absl::StrCat(
        "partial wildcards in leftmost label are not supported: ", Repr(dn), "."));
  }
  const size_t host_dot = hostname.find('.');
  if (host_dot == 0 || host_dot == absl::string_view::npos) return false;
  return absl::EqualsIgnoreCase(remainder, hostname.substr(host_dot + 1));
}

// RStrip is str.rstrip() for the whitespace an address could carry.
absl::string_view RStrip(absl::string_view s) {
  while (!s.empty() && (absl::ascii_isspace(static_cast<unsigned char>(s.back())) ||
                        (s.back() >= '\x1c' && s.back() <= '\x1f'))) {
    s.remove_suffix(1);
  }
  return s;
}

// Pairs returns the (key, value) string pairs of a tuple of 2-tuples,
// skipping entries of any other shape (DirName values, for instance).
std::vector<std::pair<absl::string_view, absl::string_view>> Pairs(const PyValue* tuple) {
  std::vector<std::pair<absl::string_view, absl::string_view>> out;
  if (tuple == nullptr) return out;
  for (const PyValue& item : tuple->items()) {
    if (item.type() != PyValue::Type::kTuple || item.items().size() != 2 ||
        item.items()[0].type() != PyValue::Type::kStr ||
        item.items()[1].type() != PyValue::Type::kStr) {
      continue;
    }
    out.emplace_back(item.items()[0].str(), item.items()[1].str());
  }
  return out;
}

}  // namespace

absl::Status match_hostname(const PyValue& cert, absl::string_view hostname) {
  if (cert.type() != PyValue::Type::kDict || cert.entries().empty()) {
    return ValueError(
        "empty or no certificate, match_hostname needs a SSL socket or SSL "
        "context with either CERT_OPTIONAL or CERT_REQUIRED");
  }
  absl::optional<std::string> host_ip;
  if (PackedIp ip = InetPaton(hostname); absl::holds_alternative<std::string>(ip)) {
    host_ip = absl::get<std::string>(ip);
  }
  std::vector<absl::string_view> dnsnames;
  // Returns OK when `dn` matches, the error _dnsname_match raised, or
  // nullopt to go on.
  const auto dns_match = [&](absl::string_view dn) -> absl::optional<absl::Status> {
    auto m = DnsNameMatch(dn, hostname);
    if (absl::holds_alternative<absl::Status>(m)) return absl::get<absl::Status>(m);
    if (absl::get<bool>(m)) return absl::OkStatus();
    return absl::nullopt;
  };
  for (const auto& [key, value] : Pairs(cert.Get("subjectAltName"))) {
    if (key == "DNS") {
      if (!host_ip.has_value()) {
        if (auto r = dns_match(value)) return *r;
      }
      dnsnames.push_back(value);
    } else if (key == "IP Address") {
      if (host_ip.has_value()) {
        PackedIp ip = InetPaton(RStrip(value));
        if (absl::holds_alternative<absl::Status>(ip)) {
          return absl::get<absl::Status>(ip);
        }
        if (absl::get<std::string>(ip) == *host_ip) return absl::OkStatus();
      }
      dnsnames.push_back(value);
    }
  }
  if (dnsnames.empty()) {
    const PyValue* subject = cert.Get("subject");
    for (size_t i = 0; subject != nullptr && i < subject->items().size(); ++i) {
      for (const auto& [key, value] : Pairs(&subject->items()[i])) {
        if (key != "commonName") continue;
        if (auto r = dns_match(value)) return *r;
        dnsnames.push_back(value);
      }
    }
  }
  if (dnsnames.size() > 1) {
    std::vector<std::string> reprs;
    for (absl::string_view n : dnsnames) reprs.push_back(Repr(n));
    return CertificateError(absl::StrCat("hostname ", Repr(hostname),
                                         " doesn't match either of ",
                                         absl::StrJoin(reprs, ", ")));
  }
  if (dnsnames.size() == 1) {
    return CertificateError(
        absl::StrCat("hostname ", Repr(hostname), " doesn't match ", Repr(dnsnames[0])));
  }
  return CertificateError(
      "no appropriate commonName or subjectAltName fields were found");
}

}  // namespace sslshim::shim
