#include "certstore/validation.h"

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "certstore/x509_info.h"
#include "openssl/bytestring.h"
#include "openssl/ec_key.h"
#include "openssl/err.h"
#include "openssl/evp.h"
#include "openssl/rsa.h"

namespace sslshim::certstore {

bool LooksLikeDerPrivateKey(absl::string_view value) {
  // Every DER private key is a SEQUENCE; skip the parsers for anything else.
  if (value.size() < 16 || value[0] != 0x30) return false;
  // One whole PKCS#8 PrivateKeyInfo, RSAPrivateKey or ECPrivateKey (with or
  // without its optional parameters and public key), nothing after it.
  auto whole = [value](auto parse) {
    CBS cbs;
    CBS_init(&cbs, reinterpret_cast<const uint8_t*>(value.data()), value.size());
    const bool ok = parse(&cbs) && CBS_len(&cbs) == 0;
    ERR_clear_error();
    return ok;
  };
  return whole([](CBS* cbs) {
           return bssl::UniquePtr<EVP_PKEY>(EVP_parse_private_key(cbs)) != nullptr;
         }) ||
         whole([](CBS* cbs) {
           return bssl::UniquePtr<RSA>(RSA_parse_private_key(cbs)) != nullptr;
         }) ||
         whole([](CBS* cbs) {
           return bssl::UniquePtr<EC_KEY>(EC_KEY_parse_private_key(cbs, nullptr)) !=
                  nullptr;
         });
}

bool IsKeyField(absl::string_view name, absl::string_view value) {
  return name == kKeyField || name == "key" || LooksLikePrivateKey(value) ||
         LooksLikeDerPrivateKey(value);
}

absl::Status ValidateFieldName(absl::string_view name) {
  bool ok = !name.empty() && name.size() <= 64;
  for (char c : name) {
    ok = ok && (absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_' ||
                c == '.' || c == '-');
  }
  if (!ok) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid field name \"", absl::CHexEscape(name.substr(0, 80)),
                     "\": use 1-64 characters of [A-Za-z0-9_.-]"));
  }
  return absl::OkStatus();
}

absl::StatusOr<RecordMetadata> ValidateFields(
    const std::map<std::string, std::string>& fields, const ValidationOptions& options) {
  if (fields.empty()) {
    return absl::InvalidArgumentError("a record needs at least one field");
  }
  RecordMetadata md;
  md.written_at = options.now;
  bssl::UniquePtr<EVP_PKEY> key;
  std::string key_field;
  for (const auto& [name, value] : fields) {
    absl::Status s = ValidateFieldName(name);
    if (!s.ok()) return s;
    if (value.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("field ", name, " is empty"));
    }
    if (IsKeyField(name, value)) {
      if (key) {
        return absl::InvalidArgumentError(
            absl::StrCat("fields ", key_field, " and ", name,
                         " both hold private keys; a record holds one"));
      }
      absl::StatusOr<bssl::UniquePtr<EVP_PKEY>> k = ParsePrivateKey(value, name);
      if (!k.ok()) return k.status();
      key = *std::move(k);
      key_field = name;
      md.key_type = KeyTypeName(key.get());
    } else if (name == kCaField) {
      absl::StatusOr<CertChain> ca = ParseCertificates(value, name);
      if (!ca.ok()) return ca.status();
    }
  }
  auto cert_it = fields.find(kCertField);
  if (cert_it != fields.end()) {
    absl::StatusOr<CertChain> chain = ParseCertificates(cert_it->second, kCertField);
    if (!chain.ok()) return chain.status();
    absl::Status s = CheckChainOrder(*chain, kCertField);
    if (!s.ok()) return s;
    X509* leaf = chain->front().get();
    CertInfo info = DescribeCertificate(leaf);
    if (info.not_after < options.now && !options.allow_expired) {
      return absl::InvalidArgumentError(absl::StrCat(
          "cert: certificate for ", info.subject, " expired at ",
          absl::FormatTime(absl::RFC3339_sec, absl::FromUnixSeconds(info.not_after),
                           absl::UTCTimeZone()),
          "; pass allow_expired (--allow-expired) to store it anyway"));
    }
    if (key) {
      s = CheckKeyMatchesCertificate(leaf, key.get());
      if (!s.ok()) {
        return absl::InvalidArgumentError(absl::StrCat(key_field, ": ", s.message()));
      }
    }
    md.subject = info.subject;
    md.issuer = info.issuer;
    md.sans = info.sans;
    md.not_before = info.not_before;
    md.not_after = info.not_after;
    md.sha256_fingerprint = info.sha256_fingerprint;
    md.key_type = info.key_type;
  }
  return md;
}

}  // namespace sslshim::certstore
