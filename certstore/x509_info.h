// x509_info.h
// -----------------------------------------------------------------------------
// The X.509/PEM parsing certstore needs to validate a record on write, using
// BoringSSL directly: certificates and private keys from PEM or DER, the
// metadata a record carries (subject, SANs, validity, fingerprint, key type),
// key/certificate matching and chain order.
//
//   absl::StatusOr<CertChain> chain = ParseCertificates(pem, "cert");
//   if (!chain.ok()) return chain.status();
//   CertInfo info = DescribeCertificate(chain->front().get());
//
// All functions are thread-compatible and leave BoringSSL's error queue empty.

#ifndef SSLSHIM_CERTSTORE_X509_INFO_H_
#define SSLSHIM_CERTSTORE_X509_INFO_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "openssl/base.h"
#include "openssl/evp.h"
#include "openssl/x509.h"

namespace sslshim::certstore {

// Owned certificates, leaf first when the input was a chain.
using CertChain = std::vector<bssl::UniquePtr<X509>>;

// CertInfo is what a record stores about its leaf certificate.
struct CertInfo {
  std::string subject;             // One-line RFC 2253 form.
  std::string issuer;              // One-line RFC 2253 form.
  std::vector<std::string> sans;   // "DNS:a.example", "IP:10.0.0.1", ...
  int64_t not_before = 0;          // Unix seconds.
  int64_t not_after = 0;           // Unix seconds.
  std::string sha256_fingerprint;  // Upper-case hex with ':' separators.
  std::string key_type;            // "RSA-2048", "EC-P256", "Ed25519", ...
};

// ParseCertificates() reads one or more PEM CERTIFICATE blocks, or a single
// DER certificate. `what` names the input in errors (e.g. the field name).
// Errors: InvalidArgument ("cert: not a PEM or DER certificate: ...").
absl::StatusOr<CertChain> ParseCertificates(absl::string_view data,
                                            absl::string_view what);

// ParsePrivateKey() reads an unencrypted private key in PEM (PKCS#8,
// traditional RSA or EC) or DER (PKCS#8 or traditional). The caller owns the
// result. Errors: InvalidArgument naming `what`, never echoing key bytes.
absl::StatusOr<bssl::UniquePtr<EVP_PKEY>> ParsePrivateKey(absl::string_view data,
                                                          absl::string_view what);

// LooksLikePrivateKey() is true when `data` contains a PEM private key block.
bool LooksLikePrivateKey(absl::string_view data);

// DescribeCertificate() extracts CertInfo from `cert` (borrowed).
CertInfo DescribeCertificate(X509* cert);

// KeyTypeName() names a public or private key's algorithm and size.
std::string KeyTypeName(const EVP_PKEY* key);

// CheckKeyMatchesCertificate() returns OK when `key` is the private key for
// `cert`'s public key. Errors: InvalidArgument ("private key does not match
// the certificate ...").
absl::Status CheckKeyMatchesCertificate(X509* cert, EVP_PKEY* key);

// CheckChainOrder() returns OK when each certificate is issued and signed by
// the next one (leaf first). Errors: InvalidArgument naming the position.
absl::Status CheckChainOrder(const CertChain& chain, absl::string_view what);

// BoringSslErrorString() drains BoringSSL's error queue into one string like
// "[PEM: NO_START_LINE]" (empty when the queue was empty).
std::string BoringSslErrorString();

}  // namespace sslshim::certstore

#endif  // SSLSHIM_CERTSTORE_X509_INFO_H_
