// record.h
// -----------------------------------------------------------------------------
// Record is one stored entity: named byte fields (`cert`, `key_str`, `ca`, or
// any other name), the metadata derived from them on write, and the
// generation the store assigned. Private-key fields are held sealed (see
// sealing.h); `Field::sealed` says so.
//
//   absl::StatusOr<Record> r = DecodeRecord(bytes);
//   if (r.ok()) std::cout << r->metadata.subject;
//
// Encoding (record_codec.h) is versioned and self-describing:
//   "SSR" | version (1 byte) | TLV body | SHA-256(all before)[0..8)
// The envelope (magic, version byte, 8-byte trailer) is the same in every
// version, so a reader first checks integrity (DataLoss), then the version
// (FailedPrecondition for a version newer than it knows), then the body.
// Within version 1, unknown tags are skipped, so additions stay readable.

#ifndef SSLSHIM_CERTSTORE_RECORD_H_
#define SSLSHIM_CERTSTORE_RECORD_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "certstore/key_path.h"

namespace sslshim::certstore {

// Field is one named value of a record.
struct Field {
  std::string value;    // Raw bytes, or a sealed value when `sealed`.
  bool sealed = false;  // True for private-key material sealed with a KEK.

  friend bool operator==(const Field& a, const Field& b) {
    return a.value == b.value && a.sealed == b.sealed;
  }
};

// RecordMetadata is derived from the fields on write, never supplied.
struct RecordMetadata {
  std::string subject;             // Leaf subject, RFC 2253.
  std::string issuer;              // Leaf issuer, RFC 2253.
  std::vector<std::string> sans;   // "DNS:..", "IP:..", ...
  int64_t not_before = 0;          // Unix seconds; 0 when no certificate.
  int64_t not_after = 0;           // Unix seconds; 0 when no certificate.
  std::string sha256_fingerprint;  // Leaf certificate, "AB:CD:...".
  std::string key_type;            // "EC-P256", "RSA-2048", ...
  int64_t written_at = 0;          // Unix seconds of the write.

  friend bool operator==(const RecordMetadata& a, const RecordMetadata& b) {
    return a.subject == b.subject && a.issuer == b.issuer && a.sans == b.sans &&
           a.not_before == b.not_before && a.not_after == b.not_after &&
           a.sha256_fingerprint == b.sha256_fingerprint && a.key_type == b.key_type &&
           a.written_at == b.written_at;
  }
};

// Record is a decoded entity. `path` and `generation` come from the store,
// not from the encoded bytes.
struct Record {
  KeyPath path;
  std::map<std::string, Field> fields;
  RecordMetadata metadata;
  uint64_t generation = 0;
};

// The encoding version this build writes and the newest it reads.
inline constexpr uint8_t kRecordEncodingVersion = 1;

// EncodeRecord() serialises fields and metadata (not the generation).
std::string EncodeRecord(const Record& record);

// DecodeRecord() parses EncodeRecord()'s output. Errors:
//   DataLoss: too short, bad magic, checksum mismatch, malformed body;
//   FailedPrecondition: a version newer than kRecordEncodingVersion.
absl::StatusOr<Record> DecodeRecord(absl::string_view bytes);

}  // namespace sslshim::certstore

#endif  // SSLSHIM_CERTSTORE_RECORD_H_
