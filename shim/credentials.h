// credentials.h
// -----------------------------------------------------------------------------
// Parsing credential bytes (as returned by readers) into BoringSSL objects,
// entirely in memory: certificate chains, private keys (optionally encrypted),
// CA bundles, CRLs and PKCS#12 bundles. PEM and DER are both accepted.
//
//   absl::StatusOr<CertChain> chain = ParseCertChain(cert_bytes, "certfile");
//   absl::StatusOr<bssl::UniquePtr<EVP_PKEY>> key =
//       ParsePrivateKey(key_bytes, Password::None(), "keyfile");
//
// Every error is InvalidArgument with kind SSLError, naming `argument` (the
// facade parameter, e.g. "certfile", "keyfile", "cadata") and BoringSSL's
// reason, never the bytes. The caller wipes the input bytes after the call
// (SecureBytes does); these functions keep no copy of key bytes.

#ifndef SSLSHIM_SHIM_CREDENTIALS_H_
#define SSLSHIM_SHIM_CREDENTIALS_H_

#include <cstddef>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/optional.h"
#include "openssl/base.h"
#include "openssl/evp.h"
#include "openssl/x509.h"

namespace sslshim::shim {

// CertChain is a leaf certificate followed by its intermediates, in order.
using CertChain = std::vector<bssl::UniquePtr<X509>>;

// kMaxPasswordLength is the longest password accepted, in bytes. Python
// refuses longer ones too (PEM_BUFSIZE).
inline constexpr size_t kMaxPasswordLength = 1024;

// Password for an encrypted private key, as Python's load_cert_chain(password=):
// none, a string, or a callback that returns the password when a key turns
// out to be encrypted (never called for unencrypted keys). The callback may be
// called from any thread that parses; a failed status it returns is passed
// back to the caller with the argument name prepended.
struct Password {
  absl::optional<std::string> value;
  std::function<absl::StatusOr<std::string>()> callback;

  static Password None() { return {}; }
  static Password Of(std::string p) { return {std::move(p), nullptr}; }
  static Password From(std::function<absl::StatusOr<std::string>()> cb) {
    return {absl::nullopt, std::move(cb)};
  }
  bool given() const { return value.has_value() || callback != nullptr; }
};

// ParseCertChain parses one or more certificates: a PEM sequence (leaf first)
// or a single DER certificate. Other PEM blocks (a private key in the same
// file, as Python allows) and text between blocks are skipped. Errors: no
// certificate found, malformed or truncated PEM/DER, trailing garbage after
// DER. The caller owns the returned certificates.
absl::StatusOr<CertChain> ParseCertChain(absl::string_view bytes,
                                         absl::string_view argument);

// ParseCaCertificates parses a CA bundle: any number (>= 1) of PEM
// certificates, or DER certificates concatenated (as Python's cadata= bytes).
// Non-certificate PEM blocks are skipped. Error if none is found.
absl::StatusOr<CertChain> ParseCaCertificates(absl::string_view bytes,
                                              absl::string_view argument);

// ParsePrivateKey parses an RSA, ECDSA (P-256/P-384) or Ed25519 private key:
// PEM ("PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY", "ENCRYPTED PRIVATE
// KEY", legacy Proc-Type encrypted) or DER (PKCS#8, traditional, or PKCS#8
// EncryptedPrivateKeyInfo). In PEM the first key block is used and other
// blocks (certificates) are skipped, so a certfile holding the key works.
// `password` is consulted only when the key is encrypted. Errors: no key
// found, malformed/truncated key, unsupported key type, encrypted key with no
// password ("keyfile: the private key is encrypted and no password was
// given"), wrong password ("keyfile: wrong password for the encrypted private
// key ..."), a failing password callback, a password over kMaxPasswordLength.
// Decrypted key bytes and password copies are wiped before returning. The
// caller owns the returned key.
absl::StatusOr<bssl::UniquePtr<EVP_PKEY>> ParsePrivateKey(
    absl::string_view bytes, const Password& password,
    absl::string_view argument);

// IsEncryptedPrivateKey reports whether `bytes` hold a password-protected key
// (the first private key found: "ENCRYPTED PRIVATE KEY" PEM, a legacy
// Proc-Type encrypted PEM, or a DER EncryptedPrivateKeyInfo). False for
// anything else, including input that is not a key at all.
bool IsEncryptedPrivateKey(absl::string_view bytes);

// ResolvePassword obtains the bytes of `password` into `*out`: its value, or
// what its callback returns (the callback is called exactly once). Errors:
// no password given ("<argument>: the private key is encrypted and no password
// was given"), the callback's own error (code kept, "<argument>: password
// callback failed: ..."), or a password longer than kMaxPasswordLength. The
// caller owns `*out` and must wipe it (WipeString) when done, on error too.
absl::Status ResolvePassword(const Password& password,
                             absl::string_view argument, std::string* out);

// CheckKeyMatchesCertificate returns OK when `key` is the private half of
// `cert`'s public key, else InvalidArgument: "<argument>: [X509:
// KEY_VALUES_MISMATCH] key values mismatch" (or KEY_TYPE_MISMATCH when the
// key types differ), as OpenSSL reports it. Neither argument is taken.
absl::Status CheckKeyMatchesCertificate(const EVP_PKEY* key, X509* cert,
                                        absl::string_view argument);

// AddCertsToStore adds every certificate of `certs` to `store` (each
// up-ref'd by the store). A certificate already in the store is skipped, as
// OpenSSL's loaders do. Errors: Internal (kind SSLError) naming `argument`
// when BoringSSL refuses for another reason.
absl::Status AddCertsToStore(X509_STORE* store, const CertChain& certs,
                             absl::string_view argument);

// ParseCrls parses one or more CRLs: a PEM sequence of "X509 CRL" blocks
// (others skipped) or DER CRLs (one, or several concatenated). Errors as for
// ParseCertChain, naming "CRL".
absl::StatusOr<std::vector<bssl::UniquePtr<X509_CRL>>> ParseCrls(
    absl::string_view bytes, absl::string_view argument);

// Pkcs12Contents is what a PKCS#12 bundle holds: key, leaf, and extra certs.
struct Pkcs12Contents {
  bssl::UniquePtr<EVP_PKEY> key;
  CertChain chain;  // Leaf first, then the bundle's other certificates.
};

// ParsePkcs12 parses a DER PKCS#12 bundle protected by `password` (none given
// means the empty password; a callback is always called, since a bundle is
// always protected). The certificate matching the key is moved to the front
// of `chain`; the others keep the bundle's order. Errors: malformed or
// truncated bundle, trailing garbage, wrong password, no key, no certificate
// for the key.
absl::StatusOr<Pkcs12Contents> ParsePkcs12(absl::string_view bytes,
                                           const Password& password,
                                           absl::string_view argument);

}  // namespace sslshim::shim

#endif  // SSLSHIM_SHIM_CREDENTIALS_H_
