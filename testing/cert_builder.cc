#include "testing/cert_builder.h"

#include <cstdio>
#include <cstdlib>
#include <ctime>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "openssl/bn.h"
#include "openssl/bytestring.h"
#include "openssl/ec.h"
#include "openssl/ec_key.h"
#include "openssl/err.h"
#include "openssl/mem.h"
#include "openssl/nid.h"
#include "openssl/pem.h"
#include "openssl/pkcs8.h"
#include "openssl/rand.h"
#include "openssl/rsa.h"
#include "openssl/x509v3.h"

namespace sslshim::testing {
namespace {

void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "cert_builder: %s failed\n", what);
    ERR_print_errors_fp(stderr);
    std::abort();
  }
}

std::string BioToString(BIO* bio) {
  const uint8_t* data = nullptr;
  size_t len = 0;
  Check(BIO_mem_contents(bio, &data, &len), "BIO_mem_contents");
  return std::string(reinterpret_cast<const char*>(data), len);
}

void AddExtension(X509* cert, X509* issuer, const std::string& name,
                  const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  bssl::UniquePtr<X509_EXTENSION> ext(
      X509V3_EXT_nconf(nullptr, &ctx, name.c_str(), value.c_str()));
  Check(ext != nullptr, ("extension " + name + "=" + value).c_str());
  Check(X509_add_ext(cert, ext.get(), -1), "X509_add_ext");
}

const EVP_MD* DigestFor(const EVP_PKEY* key) {
  return EVP_PKEY_id(key) == EVP_PKEY_ED25519 ? nullptr : EVP_sha256();
}

}  // namespace

bssl::UniquePtr<EVP_PKEY> GenerateKey(KeyType type) {
  bssl::UniquePtr<EVP_PKEY> pkey(EVP_PKEY_new());
  switch (type) {
    case KeyType::kP256:
    case KeyType::kP384: {
      bssl::UniquePtr<EC_KEY> ec(EC_KEY_new_by_curve_name(
          type == KeyType::kP256 ? NID_X9_62_prime256v1 : NID_secp384r1));
      Check(ec && EC_KEY_generate_key(ec.get()), "EC keygen");
      Check(EVP_PKEY_assign_EC_KEY(pkey.get(), ec.release()), "assign EC");
      break;
    }
    case KeyType::kRsa2048: {
      bssl::UniquePtr<RSA> rsa(RSA_new());
      bssl::UniquePtr<BIGNUM> e(BN_new());
      Check(BN_set_word(e.get(), RSA_F4), "BN_set_word");
      Check(RSA_generate_key_ex(rsa.get(), 2048, e.get(), nullptr), "RSA keygen");
      Check(EVP_PKEY_assign_RSA(pkey.get(), rsa.release()), "assign RSA");
      break;
    }
    case KeyType::kEd25519: {
      bssl::UniquePtr<EVP_PKEY_CTX> ctx(EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, nullptr));
      EVP_PKEY* raw = nullptr;
      Check(ctx && EVP_PKEY_keygen_init(ctx.get()) &&
                EVP_PKEY_keygen(ctx.get(), &raw),
            "Ed25519 keygen");
      pkey.reset(raw);
      break;
    }
  }
  return pkey;
}

Issued Issue(const CertSpec& spec, KeyType key_type, const Issued* issuer) {
  Issued out;
  out.key = GenerateKey(key_type);
  out.cert.reset(X509_new());
  X509* cert = out.cert.get();
  Check(X509_set_version(cert, X509_VERSION_3), "set_version");

  bssl::UniquePtr<BIGNUM> serial;
  if (spec.serial_hex.empty()) {
    uint8_t bytes[16];
    RAND_bytes(bytes, sizeof(bytes));
    bytes[0] &= 0x7f;  // Positive.
    bytes[0] |= 0x01;
    serial.reset(BN_bin2bn(bytes, sizeof(bytes), nullptr));
  } else {
    BIGNUM* bn = nullptr;
    Check(BN_hex2bn(&bn, spec.serial_hex.c_str()) != 0, "BN_hex2bn");
    serial.reset(bn);
  }
  bssl::UniquePtr<ASN1_INTEGER> serial_asn1(BN_to_ASN1_INTEGER(serial.get(), nullptr));
  Check(X509_set_serialNumber(cert, serial_asn1.get()), "set_serial");

  X509_NAME* name = X509_get_subject_name(cert);
  if (!spec.common_name.empty()) {
    Check(X509_NAME_add_entry_by_txt(
              name, "CN", MBSTRING_UTF8,
              reinterpret_cast<const uint8_t*>(spec.common_name.data()),
              spec.common_name.size(), -1, 0),
          "add CN");
  }
  for (const auto& [field, value] : spec.subject) {
    Check(X509_NAME_add_entry_by_txt(name, field.c_str(), MBSTRING_UTF8,
                                     reinterpret_cast<const uint8_t*>(value.data()),
                                     value.size(), -1, 0),
          ("add subject " + field).c_str());
  }
  X509* issuer_cert = issuer != nullptr ? issuer->cert.get() : cert;
  EVP_PKEY* signing_key = issuer != nullptr ? issuer->key.get() : out.key.get();
  Check(X509_set_issuer_name(cert, X509_get_subject_name(issuer_cert)),
        "set_issuer");

  time_t now = std::time(nullptr);
  Check(X509_time_adj_ex(X509_getm_notBefore(cert), 0, spec.not_before_offset, &now) !=
            nullptr,
        "notBefore");
  Check(X509_time_adj_ex(X509_getm_notAfter(cert), 0, spec.not_after_offset, &now) !=
            nullptr,
        "notAfter");
  Check(X509_set_pubkey(cert, out.key.get()), "set_pubkey");

  if (spec.is_ca) {
    AddExtension(cert, issuer_cert, "basicConstraints",
                 spec.path_length >= 0
                     ? absl::StrCat("critical,CA:TRUE,pathlen:", spec.path_length)
                     : "critical,CA:TRUE");
    AddExtension(cert, issuer_cert, "keyUsage", "critical,keyCertSign,cRLSign");
  } else {
    AddExtension(cert, issuer_cert, "basicConstraints", "critical,CA:FALSE");
  }
  AddExtension(cert, issuer_cert, "subjectKeyIdentifier", "hash");
  if (issuer != nullptr) {
    AddExtension(cert, issuer_cert, "authorityKeyIdentifier", "keyid:always");
  }
  std::vector<std::string> sans;
  for (const auto& d : spec.dns_names) sans.push_back("DNS:" + d);
  for (const auto& ip : spec.ip_addresses) sans.push_back("IP:" + ip);
  for (const auto& e : spec.emails) sans.push_back("email:" + e);
  for (const auto& u : spec.uris) sans.push_back("URI:" + u);
  if (!sans.empty()) {
    AddExtension(cert, issuer_cert, "subjectAltName", absl::StrJoin(sans, ","));
  }
  std::vector<std::string> aia;
  for (const auto& u : spec.ocsp_uris) aia.push_back("OCSP;URI:" + u);
  for (const auto& u : spec.ca_issuer_uris) aia.push_back("caIssuers;URI:" + u);
  if (!aia.empty()) {
    AddExtension(cert, issuer_cert, "authorityInfoAccess", absl::StrJoin(aia, ","));
  }
  if (!spec.crl_uris.empty()) {
    std::vector<std::string> dps;
    for (const auto& u : spec.crl_uris) dps.push_back("URI:" + u);
    AddExtension(cert, issuer_cert, "crlDistributionPoints", absl::StrJoin(dps, ","));
  }
  for (const auto& [ext_name, value] : spec.extensions) {
    AddExtension(cert, issuer_cert, ext_name, value);
  }
  Check(X509_sign(cert, signing_key, DigestFor(signing_key)) > 0, "X509_sign");
  return out;
}

std::string Issued::CertPem() const {
  bssl::UniquePtr<BIO> bio(BIO_new(BIO_s_mem()));
  Check(PEM_write_bio_X509(bio.get(), cert.get()), "PEM_write_bio_X509");
  return BioToString(bio.get());
}

std::string Issued::CertDer() const {
  uint8_t* der = nullptr;
  int len = i2d_X509(cert.get(), &der);
  Check(len > 0, "i2d_X509");
  std::string out(reinterpret_cast<char*>(der), len);
  OPENSSL_free(der);
  return out;
}

std::string Issued::KeyPem() const {
  bssl::UniquePtr<BIO> bio(BIO_new(BIO_s_mem()));
  Check(PEM_write_bio_PKCS8PrivateKey(bio.get(), key.get(), nullptr, nullptr, 0,
                                      nullptr, nullptr),
        "PEM_write_bio_PKCS8PrivateKey");
  return BioToString(bio.get());
}

std::string Issued::KeyPemTraditional() const {
  bssl::UniquePtr<BIO> bio(BIO_new(BIO_s_mem()));
  if (EVP_PKEY_id(key.get()) == EVP_PKEY_RSA) {
    Check(PEM_write_bio_RSAPrivateKey(bio.get(), EVP_PKEY_get0_RSA(key.get()),
                                      nullptr, nullptr, 0, nullptr, nullptr),
          "PEM_write_bio_RSAPrivateKey");
  } else {
    Check(PEM_write_bio_ECPrivateKey(bio.get(), EVP_PKEY_get0_EC_KEY(key.get()),
                                     nullptr, nullptr, 0, nullptr, nullptr),
          "PEM_write_bio_ECPrivateKey");
  }
  return BioToString(bio.get());
}

std::string Issued::KeyPemEncrypted(const std::string& password) const {
  bssl::UniquePtr<BIO> bio(BIO_new(BIO_s_mem()));
  Check(PEM_write_bio_PKCS8PrivateKey(bio.get(), key.get(), EVP_aes_256_cbc(),
                                      const_cast<char*>(password.data()),
                                      static_cast<int>(password.size()), nullptr,
                                      nullptr),
        "PEM_write_bio_PKCS8PrivateKey(encrypted)");
  return BioToString(bio.get());
}

std::string Issued::KeyPemTraditionalEncrypted(const std::string& password) const {
  bssl::UniquePtr<BIO> bio(BIO_new(BIO_s_mem()));
  auto* pass = reinterpret_cast<unsigned char*>(const_cast<char*>(password.data()));
  int len = static_cast<int>(password.size());
  if (EVP_PKEY_id(key.get()) == EVP_PKEY_RSA) {
    Check(PEM_write_bio_RSAPrivateKey(bio.get(), EVP_PKEY_get0_RSA(key.get()),
                                      EVP_aes_128_cbc(), pass, len, nullptr, nullptr),
          "PEM_write_bio_RSAPrivateKey(encrypted)");
  } else {
    Check(PEM_write_bio_ECPrivateKey(bio.get(), EVP_PKEY_get0_EC_KEY(key.get()),
                                     EVP_aes_128_cbc(), pass, len, nullptr, nullptr),
          "PEM_write_bio_ECPrivateKey(encrypted)");
  }
  return BioToString(bio.get());
}

std::string Issued::KeyDer() const {
  bssl::ScopedCBB cbb;
  uint8_t* der = nullptr;
  size_t len = 0;
  Check(CBB_init(cbb.get(), 0) && EVP_marshal_private_key(cbb.get(), key.get()) &&
            CBB_finish(cbb.get(), &der, &len),
        "EVP_marshal_private_key");
  std::string out(reinterpret_cast<char*>(der), len);
  OPENSSL_free(der);
  return out;
}

std::string Issued::KeyDerTraditional() const {
  uint8_t* der = nullptr;
  int len = -1;
  if (EVP_PKEY_id(key.get()) == EVP_PKEY_RSA) {
    len = i2d_RSAPrivateKey(EVP_PKEY_get0_RSA(key.get()), &der);
  } else {
    len = i2d_ECPrivateKey(EVP_PKEY_get0_EC_KEY(key.get()), &der);
  }
  Check(len > 0, "i2d traditional key");
  std::string out(reinterpret_cast<char*>(der), len);
  OPENSSL_free(der);
  return out;
}

std::string Pkcs12(const Issued& leaf, const std::vector<const Issued*>& extra,
                   const std::string& password) {
  bssl::UniquePtr<STACK_OF(X509)> ca(sk_X509_new_null());
  for (const Issued* i : extra) {
    Check(bssl::PushToStack(ca.get(), bssl::UpRef(i->cert)), "push ca");
  }
  bssl::UniquePtr<PKCS12> p12(PKCS12_create(password.c_str(), "test", leaf.key.get(),
                                            leaf.cert.get(), ca.get(), 0, 0, 0, 0, 0));
  Check(p12 != nullptr, "PKCS12_create");
  uint8_t* der = nullptr;
  int len = i2d_PKCS12(p12.get(), &der);
  Check(len > 0, "i2d_PKCS12");
  std::string out(reinterpret_cast<char*>(der), len);
  OPENSSL_free(der);
  return out;
}

std::string CrlPem(const Issued& issuer, const std::vector<const Issued*>& revoked) {
  bssl::UniquePtr<X509_CRL> crl(X509_CRL_new());
  Check(X509_CRL_set_version(crl.get(), X509_CRL_VERSION_2), "crl version");
  Check(X509_CRL_set_issuer_name(crl.get(), X509_get_subject_name(issuer.cert.get())),
        "crl issuer");
  time_t now = std::time(nullptr);
  bssl::UniquePtr<ASN1_TIME> last(X509_time_adj_ex(nullptr, 0, -3600, &now));
  bssl::UniquePtr<ASN1_TIME> next(X509_time_adj_ex(nullptr, 7, 0, &now));
  Check(X509_CRL_set1_lastUpdate(crl.get(), last.get()) &&
            X509_CRL_set1_nextUpdate(crl.get(), next.get()),
        "crl times");
  for (const Issued* r : revoked) {
    bssl::UniquePtr<X509_REVOKED> entry(X509_REVOKED_new());
    Check(X509_REVOKED_set_serialNumber(entry.get(),
                                        X509_get0_serialNumber(r->cert.get())) &&
              X509_REVOKED_set_revocationDate(entry.get(), last.get()) &&
              X509_CRL_add0_revoked(crl.get(), entry.release()),
          "crl revoked");
  }
  Check(X509_CRL_sort(crl.get()), "crl sort");
  Check(X509_CRL_sign(crl.get(), issuer.key.get(), DigestFor(issuer.key.get())) > 0,
        "X509_CRL_sign");
  bssl::UniquePtr<BIO> bio(BIO_new(BIO_s_mem()));
  Check(PEM_write_bio_X509_CRL(bio.get(), crl.get()), "PEM_write_bio_X509_CRL");
  return BioToString(bio.get());
}

TestPki TestPki::Make(KeyType type) {
  TestPki pki;
  pki.root = Issue({.common_name = "sslshim Test Root CA",
                    .subject = {{"O", "sslshim tests"}},
                    .is_ca = true,
                    .not_before_offset = -86400,
                    .not_after_offset = 3650LL * 86400},
                   type, nullptr);
  pki.intermediate = Issue({.common_name = "sslshim Test Intermediate CA",
                            .subject = {{"O", "sslshim tests"}},
                            .is_ca = true,
                            .path_length = 0,
                            .not_before_offset = -86400,
                            .not_after_offset = 365LL * 86400},
                           type, &pki.root);
  pki.server = Issue({.common_name = "localhost",
                      .dns_names = {"localhost", "server.test"},
                      .ip_addresses = {"127.0.0.1", "::1"},
                      .extensions = {{"extendedKeyUsage", "serverAuth"}}},
                     type, &pki.intermediate);
  pki.client = Issue({.common_name = "client.test",
                      .dns_names = {"client.test"},
                      .emails = {"client@test.example"},
                      .extensions = {{"extendedKeyUsage", "clientAuth"}}},
                     type, &pki.intermediate);
  return pki;
}

std::string TestPki::ServerChainPem() const {
  return server.CertPem() + intermediate.CertPem();
}

std::string TestPki::ClientChainPem() const {
  return client.CertPem() + intermediate.CertPem();
}

}  // namespace sslshim::testing
