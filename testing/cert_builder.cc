#include "testing/cert_builder.h"

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <functional>
#include <map>
#include <mutex>

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

bssl::UniquePtr<X509_EXTENSION> MakeExtension(X509* cert, X509* issuer,
                                              const std::string& name,
                                              const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  bssl::UniquePtr<X509_EXTENSION> ext(
      X509V3_EXT_nconf(nullptr, &ctx, name.c_str(), value.c_str()));
  Check(ext != nullptr, ("extension " + name + "=" + value).c_str());
  return ext;
}

void AddExtension(X509* cert, X509* issuer, const std::string& name,
                  const std::string& value) {
  Check(X509_add_ext(cert, MakeExtension(cert, issuer, name, value).get(), -1),
        "X509_add_ext");
}

// Marshal runs `write` on a fresh CBB and returns the bytes it wrote.
std::string Marshal(const std::function<bool(CBB*)>& write, const char* what) {
  bssl::ScopedCBB cbb;
  uint8_t* der = nullptr;
  size_t len = 0;
  Check(CBB_init(cbb.get(), 0) && write(cbb.get()) && CBB_finish(cbb.get(), &der, &len),
        what);
  std::string out(reinterpret_cast<char*>(der), len);
  OPENSSL_free(der);
  return out;
}

// I2d returns `i2d`'s DER encoding of `obj`.
template <typename I2dFn, typename T>
std::string I2d(I2dFn i2d, T* obj, const char* what) {
  uint8_t* der = nullptr;
  int len = i2d(obj, &der);
  Check(len > 0, what);
  std::string out(reinterpret_cast<char*>(der), len);
  OPENSSL_free(der);
  return out;
}

const EVP_MD* DigestFor(const EVP_PKEY* key) {
  return EVP_PKEY_id(key) == EVP_PKEY_ED25519 ? nullptr : EVP_sha256();
}

bssl::UniquePtr<ASN1_OBJECT> Oid(const std::string& text) {
  bssl::UniquePtr<ASN1_OBJECT> obj(OBJ_txt2obj(text.c_str(), 0));
  Check(obj != nullptr, ("OID " + text).c_str());
  return obj;
}

bssl::UniquePtr<ASN1_STRING> RawString(int type, const std::string& bytes) {
  bssl::UniquePtr<ASN1_STRING> s(ASN1_STRING_type_new(type));
  Check(s && ASN1_STRING_set(s.get(), bytes.data(), static_cast<int>(bytes.size())),
        "ASN1_STRING_set");
  return s;
}

bssl::UniquePtr<GENERAL_NAME> MakeGeneralName(const RawGeneralName& raw) {
  bssl::UniquePtr<GENERAL_NAME> gn(GENERAL_NAME_new());
  Check(gn != nullptr, "GENERAL_NAME_new");
  switch (raw.type) {
    case GEN_DNS:
    case GEN_EMAIL:
    case GEN_URI:
      GENERAL_NAME_set0_value(gn.get(), raw.type,
                              RawString(V_ASN1_IA5STRING, raw.value).release());
      break;
    case GEN_IPADD:
      GENERAL_NAME_set0_value(gn.get(), raw.type,
                              RawString(V_ASN1_OCTET_STRING, raw.value).release());
      break;
    case GEN_RID:
      GENERAL_NAME_set0_value(gn.get(), raw.type, Oid(raw.oid).release());
      break;
    case GEN_OTHERNAME: {
      bssl::UniquePtr<ASN1_TYPE> value(ASN1_TYPE_new());
      Check(value != nullptr, "ASN1_TYPE_new");
      ASN1_TYPE_set(value.get(), raw.value_type,
                    RawString(raw.value_type, raw.value).release());
      Check(GENERAL_NAME_set0_othername(gn.get(), Oid(raw.oid).release(),
                                        value.release()),
            "GENERAL_NAME_set0_othername");
      break;
    }
    case GEN_DIRNAME: {
      bssl::UniquePtr<X509_NAME> name(X509_NAME_new());
      AddNameEntries(name.get(), raw.dir_name);
      GENERAL_NAME_set0_value(gn.get(), raw.type, name.release());
      break;
    }
    default:
      Check(false, "RawGeneralName type");
  }
  return gn;
}

// AddRawSans adds a subjectAltName extension holding the names of `existing`
// (an extension built from the config syntax; may be null) then `raw`.
void AddRawSans(X509* cert, X509_EXTENSION* existing,
                const std::vector<RawGeneralName>& raw) {
  GENERAL_NAMES* names =
      existing != nullptr ? static_cast<GENERAL_NAMES*>(X509V3_EXT_d2i(existing))
                          : sk_GENERAL_NAME_new_null();
  Check(names != nullptr, "GENERAL_NAMES");
  for (const RawGeneralName& r : raw) {
    Check(bssl::PushToStack(names, MakeGeneralName(r)), "push GENERAL_NAME");
  }
  Check(X509_add1_ext_i2d(cert, NID_subject_alt_name, names, 0, X509V3_ADD_DEFAULT),
        "X509_add1_ext_i2d(subjectAltName)");
  sk_GENERAL_NAME_pop_free(names, GENERAL_NAME_free);
}

}  // namespace

void AddNameEntries(X509_NAME* name, const std::vector<NameEntry>& entries) {
  for (const NameEntry& e : entries) {
    Check(X509_NAME_add_entry_by_OBJ(name, Oid(e.oid).get(), e.asn1_type,
                                     reinterpret_cast<const uint8_t*>(e.value.data()),
                                     static_cast<int>(e.value.size()), -1,
                                     e.same_rdn ? -1 : 0),
          ("add name entry " + e.oid).c_str());
  }
}

std::string KeyTypeName(KeyType type) {
  switch (type) {
    case KeyType::kP256:
      return "P256";
    case KeyType::kP384:
      return "P384";
    case KeyType::kRsa2048:
      return "Rsa2048";
    case KeyType::kEd25519:
      return "Ed25519";
  }
  return "Unknown";
}

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
  Check(X509_set_version(cert, spec.version1 ? X509_VERSION_1 : X509_VERSION_3),
        "set_version");

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
  AddNameEntries(name, spec.subject_entries);
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
  if (spec.version1) {
    Check(X509_sign(cert, signing_key, DigestFor(signing_key)) > 0, "X509_sign");
    return out;
  }

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
  if (!spec.raw_sans.empty()) {
    bssl::UniquePtr<X509_EXTENSION> existing;
    if (!sans.empty()) {
      existing = MakeExtension(cert, issuer_cert, "subjectAltName",
                               absl::StrJoin(sans, ","));
    }
    AddRawSans(cert, existing.get(), spec.raw_sans);
  } else if (!sans.empty()) {
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

std::string Issued::CertDer() const { return I2d(i2d_X509, cert.get(), "i2d_X509"); }

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
  return Marshal(
      [&](CBB* cbb) { return EVP_marshal_private_key(cbb, key.get()) == 1; },
      "EVP_marshal_private_key");
}

std::string Issued::KeyDerEncrypted(const std::string& password) const {
  return Marshal(
      [&](CBB* cbb) {
        return PKCS8_marshal_encrypted_private_key(
                   cbb, -1, EVP_aes_256_cbc(), password.data(), password.size(),
                   nullptr, 0, 2048, key.get()) == 1;
      },
      "PKCS8_marshal_encrypted_private_key");
}

std::string Issued::KeyDerTraditional() const {
  if (EVP_PKEY_id(key.get()) == EVP_PKEY_RSA) {
    return I2d(i2d_RSAPrivateKey, EVP_PKEY_get0_RSA(key.get()), "i2d_RSAPrivateKey");
  }
  return I2d(i2d_ECPrivateKey, EVP_PKEY_get0_EC_KEY(key.get()), "i2d_ECPrivateKey");
}

namespace {

// EncodePkcs12 builds a DER PKCS#12 of `key` and `cert` (either may be null)
// and `extra` certificates under `password`.
std::string EncodePkcs12(const std::string& password, const char* name,
                         const EVP_PKEY* key, X509* cert,
                         const std::vector<const Issued*>& extra) {
  bssl::UniquePtr<STACK_OF(X509)> ca(sk_X509_new_null());
  for (const Issued* i : extra) {
    Check(bssl::PushToStack(ca.get(), bssl::UpRef(i->cert)), "push ca");
  }
  bssl::UniquePtr<PKCS12> p12(
      PKCS12_create(password.c_str(), name, key, cert, ca.get(), 0, 0, 0, 0, 0));
  Check(p12 != nullptr, "PKCS12_create");
  return I2d(i2d_PKCS12, p12.get(), "i2d_PKCS12");
}

}  // namespace

std::string Pkcs12(const Issued& leaf, const std::vector<const Issued*>& extra,
                   const std::string& password) {
  return EncodePkcs12(password, "test", leaf.key.get(), leaf.cert.get(), extra);
}

std::string Pkcs12CertsOnly(const std::vector<const Issued*>& certs,
                            const std::string& password) {
  return EncodePkcs12(password, nullptr, nullptr, nullptr, certs);
}

namespace {

bssl::UniquePtr<X509_CRL> BuildCrl(const Issued& issuer,
                                   const std::vector<const Issued*>& revoked) {
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
  return crl;
}

}  // namespace

std::string CrlPem(const Issued& issuer, const std::vector<const Issued*>& revoked) {
  bssl::UniquePtr<X509_CRL> crl = BuildCrl(issuer, revoked);
  bssl::UniquePtr<BIO> bio(BIO_new(BIO_s_mem()));
  Check(PEM_write_bio_X509_CRL(bio.get(), crl.get()), "PEM_write_bio_X509_CRL");
  return BioToString(bio.get());
}

std::string CrlDer(const Issued& issuer, const std::vector<const Issued*>& revoked) {
  bssl::UniquePtr<X509_CRL> crl = BuildCrl(issuer, revoked);
  return I2d(i2d_X509_CRL, crl.get(), "i2d_X509_CRL");
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

const TestPki& SharedTestPki(KeyType type) {
  static std::mutex* const mu = new std::mutex;
  static std::map<KeyType, const TestPki*>* const pkis =
      new std::map<KeyType, const TestPki*>;
  std::lock_guard<std::mutex> lock(*mu);
  const TestPki*& pki = (*pkis)[type];
  if (pki == nullptr) pki = new TestPki(TestPki::Make(type));
  return *pki;
}

std::string TestPki::ServerChainPem() const {
  return server.CertPem() + intermediate.CertPem();
}

std::string TestPki::ClientChainPem() const {
  return client.CertPem() + intermediate.CertPem();
}

}  // namespace sslshim::testing
