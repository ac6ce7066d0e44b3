// test_certs.h
// -----------------------------------------------------------------------------
// Test-only certificate builder: makes EC P-256 keys and X.509 certificates at
// test time with BoringSSL, so no private key is checked in.
//
//   TestIdentity ca = MakeTestCert({.common_name = "Test CA", .is_ca = true});
//   TestIdentity leaf = MakeTestCert({.common_name = "a.example",
//                                     .dns_sans = {"a.example"}}, &ca);
//   std::string chain = leaf.cert_pem + ca.cert_pem;

#ifndef SSLSHIM_CERTSTORE_TESTING_TEST_CERTS_H_
#define SSLSHIM_CERTSTORE_TESTING_TEST_CERTS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "openssl/base.h"
#include "openssl/evp.h"
#include "openssl/x509.h"

namespace sslshim::certstore::testing {

// CertSpec describes a certificate to build. Offsets are from now, seconds.
struct CertSpec {
  std::string common_name = "test.example";
  std::vector<std::string> dns_sans;
  int64_t not_before_offset = -3600;
  int64_t not_after_offset = 86400 * 30;
  bool is_ca = false;
};

// TestIdentity owns a certificate and its private key, also as PEM.
struct TestIdentity {
  bssl::UniquePtr<X509> cert;
  bssl::UniquePtr<EVP_PKEY> key;
  std::string cert_pem;
  std::string key_pem;  // PKCS#8 PEM.
};

// MakeTestCert() builds a certificate for a fresh EC P-256 key, signed by
// `issuer` (borrowed) or self-signed when null. Aborts on BoringSSL failure.
TestIdentity MakeTestCert(const CertSpec& spec, const TestIdentity* issuer = nullptr);

// KeyToDer() returns the PKCS#8 DER encoding of `key`.
std::string KeyToDer(EVP_PKEY* key);

// CertToDer() returns the DER encoding of `cert`.
std::string CertToDer(X509* cert);

}  // namespace sslshim::certstore::testing

#endif  // SSLSHIM_CERTSTORE_TESTING_TEST_CERTS_H_
