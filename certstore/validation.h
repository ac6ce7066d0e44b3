// validation.h
// -----------------------------------------------------------------------------
// Validation of a record's fields before it is written, and the metadata
// derived from them. Well-known fields:
//   cert     leaf certificate, optionally followed by its chain (PEM or DER);
//   key_str  the leaf's private key (PEM or DER; `key` is accepted too);
//   ca       CA certificates (PEM bundle or one DER certificate).
// Any other field is opaque bytes, except that a field holding a private key
// (PEM, or DER: PKCS#8, traditional RSA or EC) is treated as a key field: it
// is validated, sealed at rest, and shown only with --show-key.
//
//   absl::StatusOr<RecordMetadata> md = ValidateFields(fields, {.now = now});
//   if (!md.ok()) return md.status();  // nothing was written

#ifndef SSLSHIM_CERTSTORE_VALIDATION_H_
#define SSLSHIM_CERTSTORE_VALIDATION_H_

#include <cstdint>
#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "certstore/record.h"

namespace sslshim::certstore {

inline constexpr char kCertField[] = "cert";
inline constexpr char kKeyField[] = "key_str";
inline constexpr char kCaField[] = "ca";

// ValidationOptions tunes ValidateFields().
struct ValidationOptions {
  bool allow_expired = false;  // Accept a leaf whose notAfter has passed.
  int64_t now = 0;             // Unix seconds used for the expiry check.
};

// IsKeyField() is true when field `name` with `value` holds a private key:
// `key_str` or `key`, a PEM private key, or LooksLikeDerPrivateKey().
bool IsKeyField(absl::string_view name, absl::string_view value);

// LooksLikeDerPrivateKey() is true when `value` is exactly one DER private
// key: PKCS#8 PrivateKeyInfo, or a traditional RSAPrivateKey or
// ECPrivateKey.
bool LooksLikeDerPrivateKey(absl::string_view value);

// ValidateFieldName() accepts 1..64 bytes of [A-Za-z0-9_.-].
// Errors: InvalidArgument.
absl::Status ValidateFieldName(absl::string_view name);

// ValidateFields() checks that certificates parse, the chain is in order,
// the private key matches the leaf, and the leaf has not expired (unless
// allowed); returns the derived metadata (written_at = options.now).
// Errors: InvalidArgument naming the field and the problem.
absl::StatusOr<RecordMetadata> ValidateFields(
    const std::map<std::string, std::string>& fields, const ValidationOptions& options);

}  // namespace sslshim::certstore

#endif  // SSLSHIM_CERTSTORE_VALIDATION_H_
