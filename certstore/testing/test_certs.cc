#include "certstore/testing/test_certs.h"

#include <cstdlib>
#include <ctime>

#include "openssl/bio.h"
#include "openssl/bn.h"
#include "openssl/bytestring.h"
#include "openssl/ec_key.h"
#include "openssl/evp.h"
#include "openssl/mem.h"
#include "openssl/nid.h"
#include "openssl/pem.h"
#include "openssl/rand.h"
#include "openssl/x509.h"
#include "openssl/x509v3.h"

namespace sslshim::certstore::testing {
namespace {

void Check(bool ok, const char* what) {
  if (!ok) {
    fprintf(stderr, "MakeTestCert: %s failed\n", what);
    abort();
  }
}

std::string BioToString(BIO* bio) {
  const uint8_t* data;
  size_t len;
  BIO_mem_contents(bio, &data, &len);
  return std::string(reinterpret_cast<const char*>(data), len);
}

void AddExt(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  bssl::UniquePtr<X509_EXTENSION> ext(X509V3_EXT_nconf_nid(nullptr, &ctx, nid, value));
  Check(ext && X509_add_ext(cert, ext.get(), -1), "add extension");
}

}  // namespace

TestIdentity MakeTestCert(const CertSpec& spec, const TestIdentity* issuer) {
  TestIdentity out;
  bssl::UniquePtr<EC_KEY> ec(EC_KEY_new_by_curve_name(NID_X9_62_prime256v1));
  Check(ec && EC_KEY_generate_key(ec.get()), "EC key");
  out.key.reset(EVP_PKEY_new());
  Check(EVP_PKEY_assign_EC_KEY(out.key.get(), ec.release()), "assign key");

  out.cert.reset(X509_new());
  X509* cert = out.cert.get();
  Check(X509_set_version(cert, X509_VERSION_3), "version");
  uint8_t serial[8];
  RAND_bytes(serial, sizeof(serial));
  serial[0] &= 0x7F;
  bssl::UniquePtr<BIGNUM> bn(BN_bin2bn(serial, sizeof(serial), nullptr));
  Check(BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert)), "serial");
  time_t now = time(nullptr);
  Check(X509_time_adj_ex(X509_getm_notBefore(cert), 0,
                         static_cast<long>(spec.not_before_offset), &now),
        "notBefore");
  Check(X509_time_adj_ex(X509_getm_notAfter(cert), 0,
                         static_cast<long>(spec.not_after_offset), &now),
        "notAfter");
  X509_NAME* name = X509_get_subject_name(cert);
  Check(X509_NAME_add_entry_by_txt(
            name, "CN", MBSTRING_UTF8,
            reinterpret_cast<const uint8_t*>(spec.common_name.c_str()), -1, -1, 0),
        "CN");
  X509* signer_cert = issuer ? issuer->cert.get() : cert;
  EVP_PKEY* signer_key = issuer ? issuer->key.get() : out.key.get();
  Check(X509_set_issuer_name(cert, X509_get_subject_name(signer_cert)), "issuer");
  Check(X509_set_pubkey(cert, out.key.get()), "pubkey");
  if (spec.is_ca) {
    AddExt(cert, signer_cert, NID_basic_constraints, "critical,CA:TRUE");
    AddExt(cert, signer_cert, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    AddExt(cert, signer_cert, NID_basic_constraints, "critical,CA:FALSE");
  }
  if (!spec.dns_sans.empty()) {
    std::string sans;
    for (const std::string& d : spec.dns_sans) {
      if (!sans.empty()) sans += ",";
      sans += "DNS:" + d;
    }
    AddExt(cert, signer_cert, NID_subject_alt_name, sans.c_str());
  }
  Check(X509_sign(cert, signer_key, EVP_sha256()), "sign");

  bssl::UniquePtr<BIO> bio(BIO_new(BIO_s_mem()));
  Check(PEM_write_bio_X509(bio.get(), cert), "cert PEM");
  out.cert_pem = BioToString(bio.get());
  bio.reset(BIO_new(BIO_s_mem()));
  Check(PEM_write_bio_PKCS8PrivateKey(bio.get(), out.key.get(), nullptr, nullptr, 0,
                                      nullptr, nullptr),
        "key PEM");
  out.key_pem = BioToString(bio.get());
  return out;
}

std::string KeyToDer(EVP_PKEY* key) {
  bssl::ScopedCBB cbb;
  uint8_t* der;
  size_t len;
  Check(CBB_init(cbb.get(), 0) && EVP_marshal_private_key(cbb.get(), key) &&
            CBB_finish(cbb.get(), &der, &len),
        "key DER");
  std::string out(reinterpret_cast<char*>(der), len);
  OPENSSL_free(der);
  return out;
}

std::string CertToDer(X509* cert) {
  uint8_t* der = nullptr;
  int len = i2d_X509(cert, &der);
  Check(len > 0, "cert DER");
  std::string out(reinterpret_cast<char*>(der), len);
  OPENSSL_free(der);
  return out;
}

}  // namespace sslshim::certstore::testing
