// match_hostname.h: ssl.match_hostname(cert, hostname) as CPython 3.7-3.11
// implements it (RFC 6125), on the getpeercert() dictionary.
//
//   absl::Status s = match_hostname(sock->getpeercert(), "a.hostname.com");
//   if (!s.ok()) // GetErrorKind(s) == ErrorKind::kCertificateError
//
// Rules: a wildcard only as the whole left-most label ("*.example.com") and
// never in IDNA A-labels ("xn--"); IP addresses (v4 and v6) only against
// 'IP Address' SANs; commonName only when there is no subjectAltName of DNS
// kind; case-insensitive; a trailing dot is ignored; NUL bytes rejected.

#ifndef SSLSHIM_SHIM_MATCH_HOSTNAME_H_
#define SSLSHIM_SHIM_MATCH_HOSTNAME_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "shim/py_value.h"

namespace sslshim::shim {

// match_hostname returns OK when `cert` (a getpeercert() dictionary) is valid
// for `hostname`. Otherwise a status of kind CertificateError
// (Unauthenticated) whose message is CPython's, e.g.
//   "hostname 'b.example' doesn't match 'a.example'"
//   "hostname 'x' doesn't match either of 'a.example', 'b.example'"
//   "no appropriate commonName or subjectAltName fields were found"
// An empty dictionary (unverified peer) is InvalidArgument ("empty or no
// certificate, match_hostname needs a SSL socket or SSL context with either
// CERT_OPTIONAL or CERT_REQUIRED"), as in CPython.
absl::Status match_hostname(const PyValue& cert, absl::string_view hostname);

}  // namespace sslshim::shim

#endif  // SSLSHIM_SHIM_MATCH_HOSTNAME_H_
