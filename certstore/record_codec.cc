#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "certstore/record.h"
#include "openssl/sha.h"

namespace sslshim::certstore {
namespace {

constexpr absl::string_view kMagic = "SSR";
constexpr size_t kTrailerBytes = 8;

enum Tag : uint64_t {
  kField = 1,
  kSubject = 2,
  kIssuer = 3,
  kSan = 4,
  kNotBefore = 5,
  kNotAfter = 6,
  kFingerprint = 7,
  kKeyType = 8,
  kWrittenAt = 9,
};

void PutVarint(uint64_t v, std::string* out) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

bool GetVarint(absl::string_view* in, uint64_t* v) {
  *v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (in->empty()) return false;
    uint8_t b = static_cast<uint8_t>((*in)[0]);
    in->remove_prefix(1);
    *v |= static_cast<uint64_t>(b & 0x7F) << shift;
    if (!(b & 0x80)) return true;
  }
  return false;
}

uint64_t ZigZag(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}
int64_t UnZigZag(uint64_t v) {
  return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1);
}

void PutTlv(uint64_t tag, absl::string_view payload, std::string* out) {
  PutVarint(tag, out);
  PutVarint(payload.size(), out);
  out->append(payload.data(), payload.size());
}

void PutInt(uint64_t tag, int64_t v, std::string* out) {
  std::string p;
  PutVarint(ZigZag(v), &p);
  PutTlv(tag, p, out);
}

std::string Checksum(absl::string_view data) {
  uint8_t digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const uint8_t*>(data.data()), data.size(), digest);
  return std::string(reinterpret_cast<char*>(digest), kTrailerBytes);
}

absl::Status Malformed(absl::string_view what) {
  return absl::DataLossError(absl::StrCat("record body malformed: ", what));
}

}  // namespace

std::string EncodeRecord(const Record& record) {
  std::string out(kMagic);
  out.push_back(static_cast<char>(kRecordEncodingVersion));
  for (const auto& [name, field] : record.fields) {
    std::string p;
    PutVarint(name.size(), &p);
    p += name;
    p.push_back(field.sealed ? 1 : 0);
    p += field.value;
    PutTlv(kField, p, &out);
  }
  const RecordMetadata& m = record.metadata;
  if (!m.subject.empty()) PutTlv(kSubject, m.subject, &out);
  if (!m.issuer.empty()) PutTlv(kIssuer, m.issuer, &out);
  for (const std::string& san : m.sans) PutTlv(kSan, san, &out);
  PutInt(kNotBefore, m.not_before, &out);
  PutInt(kNotAfter, m.not_after, &out);
  if (!m.sha256_fingerprint.empty()) {
    PutTlv(kFingerprint, m.sha256_fingerprint, &out);
  }
  if (!m.key_type.empty()) PutTlv(kKeyType, m.key_type, &out);
  PutInt(kWrittenAt, m.written_at, &out);
  out += Checksum(out);
  return out;
}

absl::StatusOr<Record> DecodeRecord(absl::string_view bytes) {
  if (bytes.size() < kMagic.size() + 1 + kTrailerBytes) {
    return absl::DataLossError(
        absl::StrCat("record too short (", bytes.size(), " bytes)"));
  }
  if (bytes.substr(0, kMagic.size()) != kMagic) {
    return absl::DataLossError("not a certstore record (bad magic)");
  }
  absl::string_view covered = bytes.substr(0, bytes.size() - kTrailerBytes);
  if (Checksum(covered) != bytes.substr(covered.size())) {
    return absl::DataLossError("record checksum mismatch (corrupt bytes)");
  }
  uint8_t version = static_cast<uint8_t>(bytes[kMagic.size()]);
  if (version == 0 || version > kRecordEncodingVersion) {
    return absl::FailedPreconditionError(absl::StrCat(
        "record encoding version ", version, " is not supported by this build (reads 1..",
        kRecordEncodingVersion, "); upgrade sslshim to read it"));
  }
  absl::string_view in = covered.substr(kMagic.size() + 1);
  Record r;
  RecordMetadata& m = r.metadata;
  while (!in.empty()) {
    uint64_t tag, len;
    if (!GetVarint(&in, &tag) || !GetVarint(&in, &len) || len > in.size()) {
      return Malformed("truncated tag or length");
    }
    absl::string_view p = in.substr(0, len);
    in.remove_prefix(len);
    uint64_t iv = 0;
    switch (tag) {
      case kField: {
        uint64_t name_len;
        // name_len < p.size(): the name and the sealed byte fit (written so
        // that a name_len of 2^64-1 cannot wrap the check).
        if (!GetVarint(&p, &name_len) || name_len >= p.size()) {
          return Malformed("field header");
        }
        std::string name(p.substr(0, name_len));
        bool sealed = p[name_len] != 0;
        r.fields[name] = Field{std::string(p.substr(name_len + 1)), sealed};
        break;
      }
      case kSubject:
        m.subject = std::string(p);
        break;
      case kIssuer:
        m.issuer = std::string(p);
        break;
      case kSan:
        m.sans.emplace_back(p);
        break;
      case kFingerprint:
        m.sha256_fingerprint = std::string(p);
        break;
      case kKeyType:
        m.key_type = std::string(p);
        break;
      case kNotBefore:
      case kNotAfter:
      case kWrittenAt:
        if (!GetVarint(&p, &iv) || !p.empty()) return Malformed("integer");
        (tag == kNotBefore  ? m.not_before
         : tag == kNotAfter ? m.not_after
                            : m.written_at) = UnZigZag(iv);
        break;
      default:
        break;  // Unknown tag from a newer writer of version 1: skip.
    }
  }
  return r;
}

}  // namespace sslshim::certstore
