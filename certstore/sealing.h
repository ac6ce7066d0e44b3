// sealing.h
// -----------------------------------------------------------------------------
// Sealing of private-key fields at rest: AES-256-GCM (BoringSSL EVP_AEAD)
// under a 32-byte key-encryption key (KEK) that the caller supplies. The
// record's canonical key path and the field name are the associated data, so
// a sealed value copied into another record or field does not open.
//
// Sealed value layout (all versions start with the 4-byte magic):
//   "SSK1" | kek_id (8 bytes) | nonce (12 bytes) | ciphertext | tag (16 bytes)
// kek_id is the first 8 bytes of SHA-256("sslshim-certstore-kek-id" | KEK), so
// a wrong KEK is reported as such before any decryption is attempted.
//
//   absl::StatusOr<Kek> kek = Kek::FromText(hex_or_base64);
//   absl::StatusOr<std::string> sealed = Seal(*kek, path, "key_str", pem);
//   absl::StatusOr<SecretBytes> pem2 = Unseal(&*kek, path, "key_str", *sealed);

#ifndef SSLSHIM_CERTSTORE_SEALING_H_
#define SSLSHIM_CERTSTORE_SEALING_H_

#include <array>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "certstore/key_path.h"

namespace sslshim::certstore {

// SecretBytes owns plaintext key material and wipes it (OPENSSL_cleanse) on
// destruction and before reassignment. Move-only.
class SecretBytes {
 public:
  SecretBytes() = default;
  explicit SecretBytes(std::string bytes) : bytes_(std::move(bytes)) {}
  SecretBytes(SecretBytes&& other) noexcept;
  SecretBytes& operator=(SecretBytes&& other) noexcept;
  SecretBytes(const SecretBytes&) = delete;
  SecretBytes& operator=(const SecretBytes&) = delete;
  ~SecretBytes();

  // view() borrows the plaintext; valid until this object changes.
  absl::string_view view() const { return bytes_; }
  size_t size() const { return bytes_.size(); }

 private:
  std::string bytes_;
};

// Kek is a 32-byte AES-256 key-encryption key with a public id. The key bytes
// are wiped on destruction. Copyable (each copy wipes its own bytes).
class Kek {
 public:
  static constexpr size_t kSize = 32;

  // FromBytes() takes exactly 32 raw bytes. Errors: InvalidArgument.
  static absl::StatusOr<Kek> FromBytes(absl::string_view raw);

  // FromText() takes 64 hex digits or base64 (standard or URL-safe, padding
  // optional) of 32 bytes; surrounding whitespace is ignored.
  // Errors: InvalidArgument saying which encodings were tried, never echoing
  // the text.
  static absl::StatusOr<Kek> FromText(absl::string_view text);

  Kek(const Kek& other) = default;
  Kek& operator=(const Kek& other) = default;
  ~Kek();

  // id() is 16 lower-case hex digits identifying the KEK (not secret).
  const std::string& id() const { return id_; }
  const uint8_t* key() const { return key_.data(); }

 private:
  Kek() = default;

  std::array<uint8_t, kSize> key_{};
  std::string id_;
};

// IsSealedValue() is true when `value` starts with the sealed-value magic.
bool IsSealedValue(absl::string_view value);

// SealedKekId() returns the KEK id a sealed value was sealed under.
// Errors: DataLoss when `sealed` is not a whole sealed value.
absl::StatusOr<std::string> SealedKekId(absl::string_view sealed);

// Seal() encrypts `plaintext` for field `field` of record `path`.
// Errors: Internal only if BoringSSL fails.
absl::StatusOr<std::string> Seal(const Kek& kek, const KeyPath& path,
                                 absl::string_view field, absl::string_view plaintext);

// Unseal() decrypts a value made by Seal() for the same path and field.
// `kek` may be null (no KEK configured). Never returns ciphertext or partial
// plaintext. Errors:
//   FailedPrecondition: no KEK configured, or the value was sealed under a
//     different KEK (both ids named);
//   DataLoss: truncated, tampered, or copied from another record/field.
absl::StatusOr<SecretBytes> Unseal(const Kek* kek, const KeyPath& path,
                                   absl::string_view field, absl::string_view sealed);

}  // namespace sslshim::certstore

#endif  // SSLSHIM_CERTSTORE_SEALING_H_
