#include "shim/verify_host.h"

#include <arpa/inet.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "openssl/x509.h"
#include "openssl/x509v3.h"
#include "shim/errors.h"

namespace sslshim::shim {
namespace {

absl::Status BadHostname(absl::string_view why) {
  return MakeError(ErrorKind::kSSLError, absl::StatusCode::kInvalidArgument,
                   absl::StrCat("server_hostname ", why));
}

}  // namespace

bool IsIpAddress(absl::string_view host) {
  std::string h(host);
  unsigned char buf[16];
  return inet_pton(AF_INET, h.c_str(), buf) == 1 ||
         inet_pton(AF_INET6, h.c_str(), buf) == 1;
}

absl::Status ConfigureHostname(SSL* ssl, absl::string_view hostname,
                               bool check_hostname) {
  if (hostname.empty()) return BadHostname("is empty");
  if (hostname.find('\0') != absl::string_view::npos) {
    return BadHostname("cannot contain null character");
  }
  if (hostname.front() == '.') return BadHostname("cannot start with a dot");
  if (hostname.size() > 253) return BadHostname("is longer than 253 bytes");
  for (char c : hostname) {
    if (static_cast<unsigned char>(c) >= 0x80) {
      return BadHostname(
          "must be ASCII: pass the IDNA A-label (xn--...) of a unicode name");
    }
  }
  const std::string name(hostname);
  const bool is_ip = IsIpAddress(name);
  if (!is_ip && !SSL_set_tlsext_host_name(ssl, name.c_str())) {
    return ErrorFromQueue(ErrorKind::kSSLError,
                          absl::StatusCode::kInvalidArgument,
                          "server_hostname");
  }
  if (!check_hostname) return absl::OkStatus();
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
  X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  int ok = is_ip ? X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str())
                 : X509_VERIFY_PARAM_set1_host(param, name.data(), name.size());
  if (!ok) {
    return ErrorFromQueue(ErrorKind::kSSLError,
                          absl::StatusCode::kInvalidArgument,
                          "server_hostname");
  }
  return absl::OkStatus();
}

std::string VerifyFailureReason(long code, absl::string_view hostname) {
  if (code == X509_V_ERR_HOSTNAME_MISMATCH) {
    return absl::StrCat("Hostname mismatch, certificate is not valid for '",
                        hostname, "'.");
  }
  if (code == X509_V_ERR_IP_ADDRESS_MISMATCH) {
    return absl::StrCat("IP address mismatch, certificate is not valid for '",
                        hostname, "'.");
  }
  return X509_verify_cert_error_string(code);
}

}  // namespace sslshim::shim
