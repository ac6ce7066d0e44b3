#include "certstore/sealing.h"

#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "openssl/aead.h"
#include "openssl/err.h"
#include "openssl/mem.h"
#include "openssl/rand.h"
#include "openssl/sha.h"

namespace sslshim::certstore {
namespace {

constexpr absl::string_view kMagic = "SSK1";
constexpr size_t kIdBytes = 8;
constexpr size_t kNonceBytes = 12;
constexpr size_t kTagBytes = 16;
constexpr size_t kHeaderBytes = 4 + kIdBytes + kNonceBytes;

std::string AssociatedData(const KeyPath& path, absl::string_view field) {
  return absl::StrCat("sslshim-certstore-seal-v1", absl::string_view("\0", 1),
                      path.ToString(), absl::string_view("\0", 1), field);
}

void Wipe(std::string* s) {
  if (!s->empty()) OPENSSL_cleanse(s->data(), s->size());
  s->clear();
}

}  // namespace

SecretBytes::SecretBytes(SecretBytes&& other) noexcept : bytes_(std::move(other.bytes_)) {
  Wipe(&other.bytes_);
}

SecretBytes& SecretBytes::operator=(SecretBytes&& other) noexcept {
  if (this != &other) {
    Wipe(&bytes_);
    bytes_ = std::move(other.bytes_);
    Wipe(&other.bytes_);
  }
  return *this;
}

SecretBytes::~SecretBytes() { Wipe(&bytes_); }

Kek::~Kek() { OPENSSL_cleanse(key_.data(), key_.size()); }

absl::StatusOr<Kek> Kek::FromBytes(absl::string_view raw) {
  if (raw.size() != kSize) {
    return absl::InvalidArgumentError(
        absl::StrCat("KEK must be exactly 32 bytes, got ", raw.size()));
  }
  Kek kek;
  memcpy(kek.key_.data(), raw.data(), kSize);
  SHA256_CTX ctx;
  uint8_t digest[SHA256_DIGEST_LENGTH];
  SHA256_Init(&ctx);
  static constexpr char kLabel[] = "sslshim-certstore-kek-id";
  SHA256_Update(&ctx, kLabel, sizeof(kLabel) - 1);
  SHA256_Update(&ctx, kek.key_.data(), kSize);
  SHA256_Final(digest, &ctx);
  kek.id_ = absl::BytesToHexString(
      absl::string_view(reinterpret_cast<char*>(digest), kIdBytes));
  return kek;
}

absl::StatusOr<Kek> Kek::FromText(absl::string_view text) {
  text = absl::StripAsciiWhitespace(text);
  std::string raw;
  bool is_hex = text.size() == 2 * kSize;
  for (char c : text) is_hex = is_hex && absl::ascii_isxdigit(c);
  if (is_hex) {
    raw = absl::HexStringToBytes(text);
  } else if (!absl::Base64Unescape(text, &raw) &&
             !absl::WebSafeBase64Unescape(text, &raw)) {
    raw.clear();
  }
  absl::StatusOr<Kek> kek;
  if (raw.size() != kSize) {
    kek = absl::InvalidArgumentError(
        absl::StrCat("KEK text must be 64 hex digits or base64 of 32 bytes (got ",
                     text.size(), " characters decoding to ", raw.size(), " bytes)"));
  } else {
    kek = FromBytes(raw);
  }
  Wipe(&raw);
  return kek;
}

bool IsSealedValue(absl::string_view value) {
  return value.substr(0, kMagic.size()) == kMagic;
}

absl::StatusOr<std::string> SealedKekId(absl::string_view sealed) {
  if (!IsSealedValue(sealed)) {
    return absl::DataLossError("value is not a sealed value (bad magic)");
  }
  if (sealed.size() < kHeaderBytes + kTagBytes) {
    return absl::DataLossError(absl::StrCat("sealed value truncated: ", sealed.size(),
                                            " bytes, need at least ",
                                            kHeaderBytes + kTagBytes));
  }
  return absl::BytesToHexString(sealed.substr(kMagic.size(), kIdBytes));
}

absl::StatusOr<std::string> Seal(const Kek& kek, const KeyPath& path,
                                 absl::string_view field, absl::string_view plaintext) {
  bssl::ScopedEVP_AEAD_CTX ctx;
  if (!EVP_AEAD_CTX_init(ctx.get(), EVP_aead_aes_256_gcm(), kek.key(), Kek::kSize,
                         kTagBytes, nullptr)) {
    ERR_clear_error();
    return absl::InternalError("AES-256-GCM init failed");
  }
  std::string out(kHeaderBytes + plaintext.size() + kTagBytes, '\0');
  uint8_t* p = reinterpret_cast<uint8_t*>(out.data());
  memcpy(p, kMagic.data(), kMagic.size());
  std::string id = absl::HexStringToBytes(kek.id());
  memcpy(p + kMagic.size(), id.data(), kIdBytes);
  uint8_t* nonce = p + kMagic.size() + kIdBytes;
  RAND_bytes(nonce, kNonceBytes);
  std::string ad = AssociatedData(path, field);
  size_t out_len = 0;
  if (!EVP_AEAD_CTX_seal(
          ctx.get(), p + kHeaderBytes, &out_len, plaintext.size() + kTagBytes, nonce,
          kNonceBytes, reinterpret_cast<const uint8_t*>(plaintext.data()),
          plaintext.size(), reinterpret_cast<const uint8_t*>(ad.data()), ad.size())) {
    ERR_clear_error();
    return absl::InternalError("AES-256-GCM seal failed");
  }
  out.resize(kHeaderBytes + out_len);
  return out;
}

absl::StatusOr<SecretBytes> Unseal(const Kek* kek, const KeyPath& path,
                                   absl::string_view field, absl::string_view sealed) {
  absl::StatusOr<std::string> id = SealedKekId(sealed);
  if (!id.ok()) {
    return absl::DataLossError(
        absl::StrCat(path.ToString(), "#", field, ": ", id.status().message()));
  }
  if (kek == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat(path.ToString(), "#", field, " is sealed under KEK ", *id,
                     " but no KEK is configured (set SSLSHIM_KEK or pass --kek-file)"));
  }
  if (*id != kek->id()) {
    return absl::FailedPreconditionError(
        absl::StrCat(path.ToString(), "#", field, " is sealed under KEK ", *id,
                     ", but the configured KEK is ", kek->id(), " (wrong KEK?)"));
  }
  bssl::ScopedEVP_AEAD_CTX ctx;
  if (!EVP_AEAD_CTX_init(ctx.get(), EVP_aead_aes_256_gcm(), kek->key(), Kek::kSize,
                         kTagBytes, nullptr)) {
    ERR_clear_error();
    return absl::InternalError("AES-256-GCM init failed");
  }
  const uint8_t* p = reinterpret_cast<const uint8_t*>(sealed.data());
  const uint8_t* nonce = p + kMagic.size() + kIdBytes;
  size_t in_len = sealed.size() - kHeaderBytes;
  std::string plain(in_len, '\0');
  size_t out_len = 0;
  std::string ad = AssociatedData(path, field);
  if (!EVP_AEAD_CTX_open(ctx.get(), reinterpret_cast<uint8_t*>(plain.data()), &out_len,
                         plain.size(), nonce, kNonceBytes, p + kHeaderBytes, in_len,
                         reinterpret_cast<const uint8_t*>(ad.data()), ad.size())) {
    ERR_clear_error();
    Wipe(&plain);
    return absl::DataLossError(
        absl::StrCat(path.ToString(), "#", field,
                     ": sealed value does not open (truncated, tampered with, or copied "
                     "from another record or field)"));
  }
  plain.resize(out_len);
  return SecretBytes(std::move(plain));
}

}  // namespace sslshim::certstore
