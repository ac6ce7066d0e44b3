#include "certstore/x509_info.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "openssl/bio.h"
#include "openssl/bytestring.h"
#include "openssl/digest.h"
#include "openssl/ec_key.h"
#include "openssl/err.h"
#include "openssl/evp.h"
#include "openssl/mem.h"
#include "openssl/nid.h"
#include "openssl/pem.h"
#include "openssl/rsa.h"
#include "openssl/x509.h"
#include "openssl/x509v3.h"

namespace sslshim::certstore {
namespace {

bssl::UniquePtr<BIO> MemBio(absl::string_view data) {
  return bssl::UniquePtr<BIO>(BIO_new_mem_buf(data.data(), data.size()));
}

bool IsPem(absl::string_view data) { return absl::StrContains(data, "-----BEGIN "); }

std::string NameToString(X509_NAME* name) {
  bssl::UniquePtr<BIO> bio(BIO_new(BIO_s_mem()));
  X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
  const uint8_t* data;
  size_t len;
  BIO_mem_contents(bio.get(), &data, &len);
  return std::string(reinterpret_cast<const char*>(data), len);
}

int64_t AsnTimeToUnix(const ASN1_TIME* t) {
  bssl::UniquePtr<ASN1_TIME> epoch(ASN1_TIME_set(nullptr, 0));
  int days = 0, secs = 0;
  if (t == nullptr || !epoch || !ASN1_TIME_diff(&days, &secs, epoch.get(), t)) {
    return 0;
  }
  return int64_t{days} * 86400 + secs;
}

std::string GeneralNameToString(const GENERAL_NAME* gn) {
  switch (gn->type) {
    case GEN_DNS:
    case GEN_EMAIL:
    case GEN_URI: {
      const ASN1_STRING* s = gn->d.ia5;
      std::string v(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                    ASN1_STRING_length(s));
      const char* tag = gn->type == GEN_DNS     ? "DNS:"
                        : gn->type == GEN_EMAIL ? "email:"
                                                : "URI:";
      return absl::StrCat(tag, v);
    }
    case GEN_IPADD: {
      const ASN1_OCTET_STRING* ip = gn->d.ip;
      const unsigned char* b = ASN1_STRING_get0_data(ip);
      int n = ASN1_STRING_length(ip);
      if (n == 4) return absl::StrCat("IP:", b[0], ".", b[1], ".", b[2], ".", b[3]);
      if (n == 16) {
        std::string out = "IP:";
        for (int i = 0; i < 16; i += 2) {
          if (i) out.push_back(':');
          absl::StrAppend(&out, absl::Hex((b[i] << 8) | b[i + 1]));
        }
        return out;
      }
      return "IP:<invalid>";
    }
    case GEN_DIRNAME:
      return absl::StrCat("DirName:", NameToString(gn->d.directoryName));
    default:
      return "othername:<unsupported>";
  }
}

}  // namespace

std::string BoringSslErrorString() {
  std::string out;
  uint32_t err;
  while ((err = ERR_get_error()) != 0) {
    const char* lib = ERR_lib_error_string(err);
    const char* reason = ERR_reason_error_string(err);
    if (!out.empty()) out.push_back(' ');
    absl::StrAppend(&out, "[", lib ? lib : "?", ": ", reason ? reason : "?", "]");
  }
  return out;
}

absl::StatusOr<CertChain> ParseCertificates(absl::string_view data,
                                            absl::string_view what) {
  ERR_clear_error();
  CertChain chain;
  if (IsPem(data)) {
    bssl::UniquePtr<BIO> bio = MemBio(data);
    while (true) {
      bssl::UniquePtr<X509> cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
      if (!cert) break;
      chain.push_back(std::move(cert));
    }
    // PEM_R_NO_START_LINE at the end is the normal end of input.
    uint32_t err = ERR_peek_last_error();
    if (ERR_GET_LIB(err) == ERR_LIB_PEM && ERR_GET_REASON(err) == PEM_R_NO_START_LINE &&
        !chain.empty()) {
      ERR_clear_error();
    } else if (err != 0 || chain.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          what, ": no valid PEM CERTIFICATE block ", BoringSslErrorString()));
    }
    return chain;
  }
  const uint8_t* p = reinterpret_cast<const uint8_t*>(data.data());
  bssl::UniquePtr<X509> cert(d2i_X509(nullptr, &p, data.size()));
  if (!cert || p != reinterpret_cast<const uint8_t*>(data.data()) + data.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": not a PEM or DER certificate ", BoringSslErrorString()));
  }
  chain.push_back(std::move(cert));
  return chain;
}

bool LooksLikePrivateKey(absl::string_view data) {
  return absl::StrContains(data, "PRIVATE KEY-----");
}

absl::StatusOr<bssl::UniquePtr<EVP_PKEY>> ParsePrivateKey(absl::string_view data,
                                                          absl::string_view what) {
  ERR_clear_error();
  bssl::UniquePtr<EVP_PKEY> key;
  if (IsPem(data)) {
    if (absl::StrContains(data, "ENCRYPTED PRIVATE KEY") ||
        absl::StrContains(data, "Proc-Type: 4,ENCRYPTED")) {
      return absl::InvalidArgumentError(
          absl::StrCat(what,
                       ": encrypted PEM private keys are not accepted; decrypt it "
                       "first (the store seals keys itself)"));
    }
    bssl::UniquePtr<BIO> bio = MemBio(data);
    // An empty password callback result makes encrypted keys fail cleanly.
    key.reset(
        PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, const_cast<char*>("")));
  } else {
    CBS cbs;
    CBS_init(&cbs, reinterpret_cast<const uint8_t*>(data.data()), data.size());
    key.reset(EVP_parse_private_key(&cbs));
    if (!key || CBS_len(&cbs) != 0) {
      key.reset();
      ERR_clear_error();
      const uint8_t* p = reinterpret_cast<const uint8_t*>(data.data());
      key.reset(d2i_AutoPrivateKey(nullptr, &p, data.size()));
    }
  }
  if (!key) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": not a PEM or DER private key ", BoringSslErrorString()));
  }
  ERR_clear_error();
  return key;
}

std::string KeyTypeName(const EVP_PKEY* key) {
  switch (EVP_PKEY_id(key)) {
    case EVP_PKEY_RSA:
      return absl::StrCat("RSA-", EVP_PKEY_bits(key));
    case EVP_PKEY_EC: {
      const EC_KEY* ec = EVP_PKEY_get0_EC_KEY(key);
      int nid = EC_GROUP_get_curve_name(EC_KEY_get0_group(ec));
      switch (nid) {
        case NID_X9_62_prime256v1:
          return "EC-P256";
        case NID_secp384r1:
          return "EC-P384";
        case NID_secp521r1:
          return "EC-P521";
        default:
          return absl::StrCat("EC-", OBJ_nid2sn(nid));
      }
    }
    case EVP_PKEY_ED25519:
      return "Ed25519";
    default:
      return absl::StrCat("unknown-", EVP_PKEY_id(key));
  }
}

CertInfo DescribeCertificate(X509* cert) {
  CertInfo info;
  info.subject = NameToString(X509_get_subject_name(cert));
  info.issuer = NameToString(X509_get_issuer_name(cert));
  info.not_before = AsnTimeToUnix(X509_get0_notBefore(cert));
  info.not_after = AsnTimeToUnix(X509_get0_notAfter(cert));
  bssl::UniquePtr<GENERAL_NAMES> names(static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)));
  if (names) {
    for (size_t i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
      info.sans.push_back(GeneralNameToString(sk_GENERAL_NAME_value(names.get(), i)));
    }
  }
  uint8_t md[EVP_MAX_MD_SIZE];
  unsigned md_len = 0;
  X509_digest(cert, EVP_sha256(), md, &md_len);
  for (unsigned i = 0; i < md_len; ++i) {
    if (i) info.sha256_fingerprint.push_back(':');
    absl::StrAppend(
        &info.sha256_fingerprint,
        absl::AsciiStrToUpper(absl::StrCat(absl::Hex(md[i], absl::kZeroPad2))));
  }
  bssl::UniquePtr<EVP_PKEY> pub(X509_get_pubkey(cert));
  info.key_type = pub ? KeyTypeName(pub.get()) : "unknown";
  ERR_clear_error();
  return info;
}

absl::Status CheckKeyMatchesCertificate(X509* cert, EVP_PKEY* key) {
  bssl::UniquePtr<EVP_PKEY> pub(X509_get_pubkey(cert));
  int ok = pub ? EVP_PKEY_cmp(pub.get(), key) : 0;
  ERR_clear_error();
  if (ok != 1) {
    std::string cert_type = pub ? KeyTypeName(pub.get()) : "unreadable";
    std::string key_type = KeyTypeName(key);
    return absl::InvalidArgumentError(absl::StrCat(
        "private key does not match the certificate (",
        cert_type == key_type ? absl::StrCat("two different ", key_type, " keys")
                              : absl::StrCat("certificate key is ", cert_type,
                                             ", private key is ", key_type),
        ")"));
  }
  return absl::OkStatus();
}

absl::Status CheckChainOrder(const CertChain& chain, absl::string_view what) {
  for (size_t i = 0; i + 1 < chain.size(); ++i) {
    X509* subject = chain[i].get();
    X509* issuer = chain[i + 1].get();
    bssl::UniquePtr<EVP_PKEY> issuer_key(X509_get_pubkey(issuer));
    bool ok = X509_check_issued(issuer, subject) == X509_V_OK && issuer_key &&
              X509_verify(subject, issuer_key.get()) == 1;
    ERR_clear_error();
    if (!ok) {
      return absl::InvalidArgumentError(absl::StrCat(
          what, ": chain out of order: certificate ", i + 1, " (",
          NameToString(X509_get_subject_name(subject)), ") is not issued by certificate ",
          i + 2, " (", NameToString(X509_get_subject_name(issuer)),
          "); list the leaf first, then each issuer"));
    }
  }
  return absl::OkStatus();
}

}  // namespace sslshim::certstore
