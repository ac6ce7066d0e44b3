// match_hostname.h: ssl.match_hostname(cert, hostname) as CPython 3.7-3.11
// implements it (RFC 6125), on the getpeercert() dictionary.
//
//   absl::Status s = match_hostname(sock->getpeercert(), "a.hostname.com");
//   if (!s.ok()) // GetErrorKind(s) == ErrorKind::kCertificateError
//
// Rules (CPython 3.11's Lib/ssl.py, followed exactly):
//  - A DNS name has at most one wildcard, and only as the whole left-most
//    label of a name with more labels ("*.example.com"); "f*.com", "*", "a.*.com"
//    and "*.*.com" raise CertificateError. So no A-label ("xn--") can carry a
//    wildcard. The wildcard matches one whole, non-empty left-most label.
//  - The hostname is an IP address when it is a canonical dotted quad or an
//    IPv6 text inet_pton accepts ("::1" and "0:0:0:0:0:0:0:1" are the same);
//    IP addresses match only 'IP Address' SANs, by packed bytes. Short or
//    odd IPv4 forms ("127.1", "01.2.3.4") are treated as DNS names.
//  - commonName is used only when the SAN has no DNS and no IP Address entry.
//  - Comparison is ASCII case-insensitive and otherwise exact: a trailing dot
//    is significant ("a.example." does not match "a.example"), and a NUL byte
//    is never a terminator (a name with NUL matches only the identical name,
//    so "a.example\0.evil" never matches "a.example").
// Known difference from CPython: CPython lower-cases with Unicode rules
// (str.lower); here only ASCII letters fold, so U-label (non-ASCII) names
// differing only in non-ASCII case do not match. Hostnames should be A-labels.

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
//   "partial wildcards in leftmost label are not supported: 'f*.com'."
// CPython's ValueErrors are InvalidArgument with CPython's message (and no
// attached kind): an empty dictionary (unverified peer: "empty or no
// certificate, match_hostname needs a SSL socket or SSL context with either
// CERT_OPTIONAL or CERT_REQUIRED"), and, when `hostname` is an IP address, an
// 'IP Address' SAN value that is not one ("'<invalid>' is neither an IPv4 nor
// an IP6 address.").
//
// Thread-safety: a pure function of its arguments.
absl::Status match_hostname(const PyValue& cert, absl::string_view hostname);

}  // namespace sslshim::shim

#endif  // SSLSHIM_SHIM_MATCH_HOSTNAME_H_
