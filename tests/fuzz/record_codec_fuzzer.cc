// record_codec_fuzzer.cc: libFuzzer target for certstore/record.h
// (DecodeRecord / EncodeRecord).
//
// Input: mode byte, then record bytes. Mode odd: the bytes are the record
// without its trailer and the fuzzer appends the right SHA-256 checksum, so
// mutations reach the body parser instead of stopping at the checksum.
// Contract: an error is DataLoss (FailedPrecondition only for an encoding
// version other than 1); a decoded record encodes to bytes that decode to
// the same record, and encoding is stable; no crash, leak or UB.

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "certstore/record.h"
#include "openssl/sha.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

using ::sslshim::certstore::DecodeRecord;
using ::sslshim::certstore::EncodeRecord;
using ::sslshim::certstore::kRecordEncodingVersion;
using ::sslshim::certstore::Record;

// WithChecksum appends the 8-byte SHA-256 trailer records end with.
std::string WithChecksum(absl::string_view covered) {
  uint8_t digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const uint8_t*>(covered.data()), covered.size(), digest);
  return absl::StrCat(covered, absl::string_view(reinterpret_cast<char*>(digest), 8));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  sslshim::fuzz::FuzzInput in(data, size);
  const bool fix_checksum = in.Byte() % 2 == 1;
  const std::string bytes =
      fix_checksum ? WithChecksum(in.Rest()) : std::string(in.Rest());
  absl::StatusOr<Record> r = DecodeRecord(bytes);
  sslshim::fuzz::CheckCode(
      r.status(), {absl::StatusCode::kDataLoss, absl::StatusCode::kFailedPrecondition},
      "DecodeRecord");
  sslshim::fuzz::CheckErrorQueueEmpty("DecodeRecord");
  if (r.status().code() == absl::StatusCode::kFailedPrecondition) {
    FUZZ_CHECK(
        bytes.size() > 3 && static_cast<uint8_t>(bytes[3]) != kRecordEncodingVersion,
        "FailedPrecondition for a version-1 record");
  }
  if (!r.ok()) return 0;
  const std::string encoded = EncodeRecord(*r);
  absl::StatusOr<Record> again = DecodeRecord(encoded);
  FUZZ_CHECK(again.ok(), absl::StrCat("re-encoded record does not decode: ",
                                      again.status().ToString()));
  FUZZ_CHECK(again->fields == r->fields && again->metadata == r->metadata,
             "re-encoded record decodes differently");
  FUZZ_CHECK(EncodeRecord(*again) == encoded, "encoding is not stable");
  return 0;
}
