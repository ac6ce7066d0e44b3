// cert_builder.h
// -----------------------------------------------------------------------------
// Builds test PKIs in memory with BoringSSL (as Chromium's net/test/
// cert_builder.h): keys of every type the facade accepts, CA / intermediate /
// leaf certificates with SANs, validity windows, AIA and CRL distribution
// points, and PEM/DER/encrypted/PKCS#12 encodings. Nothing touches disk.
//
//   TestPki pki = TestPki::Make(KeyType::kP256);
//   std::string server_pem = pki.server.CertPem();   // leaf only
//   std::string chain_pem = pki.ServerChainPem();    // leaf + intermediate
//   std::string key_pem = pki.server.KeyPem();       // PKCS#8 PEM
//   CertSpec spec{.common_name = "odd", .dns_names = {"*.a.example"}};
//   Issued odd = Issue(spec, KeyType::kEd25519, &pki.intermediate);

#ifndef SSLSHIM_TESTING_CERT_BUILDER_H_
#define SSLSHIM_TESTING_CERT_BUILDER_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "openssl/base.h"
#include "openssl/evp.h"
#include "openssl/x509.h"
#include "openssl/x509v3.h"

namespace sslshim::testing {

enum class KeyType { kP256, kP384, kRsa2048, kEd25519 };

// KeyTypeName returns "P256", "P384", "Rsa2048" or "Ed25519" (for test
// parameter names).
std::string KeyTypeName(KeyType type);

// GenerateKey returns a fresh private key of `type`. Aborts on failure.
bssl::UniquePtr<EVP_PKEY> GenerateKey(KeyType type);

// NameEntry is one raw name attribute: any OID (dotted or short name), any
// ASN.1 string type, any bytes (NUL included). `value` is stored as is for
// the given `asn1_type` (V_ASN1_BMPSTRING takes UTF-16BE bytes), or
// converted from UTF-8 when `asn1_type` is an MBSTRING_* flag.
struct NameEntry {
  std::string oid;
  std::string value;
  int asn1_type = V_ASN1_UTF8STRING;
  // same_rdn adds the attribute to the previous RDN (a multi-valued RDN such
  // as "CN=a+O=b") instead of starting a new one.
  bool same_rdn = false;
};

// RawGeneralName is one subjectAltName entry built field by field, for the
// forms the OpenSSL config syntax cannot express (NUL bytes, odd lengths).
struct RawGeneralName {
  int type = GEN_DNS;  // GEN_* from openssl/x509v3.h.
  // GEN_DNS / GEN_EMAIL / GEN_URI: the IA5String bytes. GEN_IPADD: the raw
  // octets (any length). GEN_OTHERNAME: the value's bytes.
  std::string value;
  // GEN_RID: the registered OID. GEN_OTHERNAME: the type-id OID.
  std::string oid;
  // GEN_OTHERNAME: the ASN.1 string type of the value.
  int value_type = V_ASN1_UTF8STRING;
  // GEN_DIRNAME: the directory name.
  std::vector<NameEntry> dir_name;
};

// CertSpec describes one certificate. Times are seconds relative to now.
struct CertSpec {
  std::string common_name = "test";
  // Extra subject attributes after commonName, as (short name, UTF-8 value),
  // e.g. {"O", "Example"}, {"C", "US"}. Order is kept.
  std::vector<std::pair<std::string, std::string>> subject;
  std::vector<std::string> dns_names;
  std::vector<std::string> ip_addresses;  // "127.0.0.1", "::1"
  std::vector<std::string> emails;
  std::vector<std::string> uris;
  std::vector<std::string> ocsp_uris;
  std::vector<std::string> ca_issuer_uris;
  std::vector<std::string> crl_uris;
  // Extra extensions in OpenSSL config syntax: {"keyUsage", "critical,..."}.
  std::vector<std::pair<std::string, std::string>> extensions;
  bool is_ca = false;
  int path_length = -1;  // basicConstraints pathlen for CAs; -1 = none.
  int64_t not_before_offset = -3600;
  int64_t not_after_offset = 30 * 24 * 3600;
  // Serial as a hex string; empty picks a random 16-byte serial.
  std::string serial_hex;
  // Raw subject attributes, added after common_name and subject.
  std::vector<NameEntry> subject_entries;
  // Raw subjectAltName entries, added after the dns_names ... uris ones.
  std::vector<RawGeneralName> raw_sans;
  // version1 makes an X.509 v1 certificate: no extensions at all (every
  // extension field above is ignored).
  bool version1 = false;
};

// AddNameEntries appends `entries` to `name`. Aborts on failure.
void AddNameEntries(X509_NAME* name, const std::vector<NameEntry>& entries);

// Issued is a certificate and its private key.
struct Issued {
  bssl::UniquePtr<X509> cert;
  bssl::UniquePtr<EVP_PKEY> key;

  std::string CertPem() const;
  std::string CertDer() const;
  // KeyPem: PKCS#8 "PRIVATE KEY" PEM.
  std::string KeyPem() const;
  // KeyPemTraditional: "RSA PRIVATE KEY" / "EC PRIVATE KEY" (RSA/EC only).
  std::string KeyPemTraditional() const;
  // KeyPemEncrypted: PKCS#8 "ENCRYPTED PRIVATE KEY" under `password`.
  std::string KeyPemEncrypted(const std::string& password) const;
  // KeyPemTraditionalEncrypted: legacy Proc-Type AES-128-CBC PEM (RSA/EC).
  std::string KeyPemTraditionalEncrypted(const std::string& password) const;
  // KeyDer: PKCS#8 DER. KeyDerTraditional: RSAPrivateKey / ECPrivateKey DER.
  std::string KeyDer() const;
  std::string KeyDerTraditional() const;
  // KeyDerEncrypted: DER EncryptedPrivateKeyInfo (PBES2, AES-256-CBC).
  std::string KeyDerEncrypted(const std::string& password) const;
};

// Issue builds a certificate for `spec` with a fresh key of `key_type`,
// signed by `issuer` (nullptr: self-signed). Aborts on failure (tests only).
Issued Issue(const CertSpec& spec, KeyType key_type, const Issued* issuer);

// Pkcs12 encodes key + cert + extra certs as a DER PKCS#12 under `password`.
std::string Pkcs12(const Issued& leaf, const std::vector<const Issued*>& extra,
                   const std::string& password);

// Pkcs12CertsOnly encodes certificates without any key as a DER PKCS#12.
std::string Pkcs12CertsOnly(const std::vector<const Issued*>& certs,
                            const std::string& password);

// Crl builds a PEM CRL signed by `issuer` revoking `revoked` (may be empty).
std::string CrlPem(const Issued& issuer, const std::vector<const Issued*>& revoked);
// CrlDer is CrlPem's CRL in DER.
std::string CrlDer(const Issued& issuer, const std::vector<const Issued*>& revoked);

// TestPki: root CA -> intermediate CA -> server ("localhost", 127.0.0.1, ::1)
// and client ("client.test" with email SAN) leaves, all of one key type.
struct TestPki {
  Issued root;
  Issued intermediate;
  Issued server;
  Issued client;

  static TestPki Make(KeyType type);

  // ServerChainPem / ClientChainPem: leaf then intermediate, PEM.
  std::string ServerChainPem() const;
  std::string ClientChainPem() const;
  // RootPem: the trust anchor to give as ca_certs / cadata.
  std::string RootPem() const { return root.CertPem(); }
};

// SharedTestPki returns a process-wide TestPki of `type`, made on first use
// (RSA key generation is slow; tests that only read a PKI can share one).
// Thread-safe; the PKI is never destroyed.
const TestPki& SharedTestPki(KeyType type);

}  // namespace sslshim::testing

#endif  // SSLSHIM_TESTING_CERT_BUILDER_H_
