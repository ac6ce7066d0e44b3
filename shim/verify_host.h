// verify_host.h: client-side server_hostname handling shared by SSLContext
// and SSLSocket: SNI, the handshake's own hostname check (BoringSSL's
// X509_VERIFY_PARAM host/IP checks, configured as CPython configures them),
// and CPython's wording for verification failures.

#ifndef SSLSHIM_SHIM_VERIFY_HOST_H_
#define SSLSHIM_SHIM_VERIFY_HOST_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "openssl/ssl.h"

namespace sslshim::shim {

// IsIpAddress reports whether `host` is an IPv4 or IPv6 literal.
bool IsIpAddress(absl::string_view host);

// ConfigureHostname sets SNI on `ssl` to `hostname` (not for IP literals,
// like CPython) and, when `check_hostname`, makes the handshake verify the
// peer certificate against it (no partial wildcards). Errors
// (InvalidArgument): empty name, NUL byte, leading dot, non-ASCII name (pass
// the IDNA A-label), name longer than 253 bytes.
absl::Status ConfigureHostname(SSL* ssl, absl::string_view hostname,
                               bool check_hostname);

// VerifyFailureReason returns CPython's text for verify result `code`:
// "Hostname mismatch, certificate is not valid for 'x'." /
// "IP address mismatch, certificate is not valid for 'x'." for name
// mismatches, otherwise X509_verify_cert_error_string(code).
std::string VerifyFailureReason(long code, absl::string_view hostname);

}  // namespace sslshim::shim

#endif  // SSLSHIM_SHIM_VERIFY_HOST_H_
