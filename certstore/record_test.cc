#include "certstore/record.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/status_matchers.h"

namespace sslshim::certstore {
namespace {

using ::sslshim::testing::StatusIs;
using ::testing::HasSubstr;

Record Sample() {
  Record r;
  r.fields["cert"] = Field{"-----BEGIN CERTIFICATE-----...", false};
  r.fields["key_str"] = Field{std::string("SSK1\0\1\2", 7), true};
  r.fields["blob"] = Field{std::string(100000, '\xff'), false};
  r.metadata.subject = "CN=a.example";
  r.metadata.issuer = "CN=CA";
  r.metadata.sans = {"DNS:a.example", "IP:10.0.0.1"};
  r.metadata.not_before = -5;
  r.metadata.not_after = 1900000000;
  r.metadata.sha256_fingerprint = "AB:CD";
  r.metadata.key_type = "EC-P256";
  r.metadata.written_at = 1700000000;
  return r;
}

TEST(RecordCodecTest, RoundTrip) {
  Record r = Sample();
  std::string bytes = EncodeRecord(r);
  ASSERT_OK_AND_ASSIGN(Record back, DecodeRecord(bytes));
  EXPECT_EQ(back.fields, r.fields);
  EXPECT_EQ(back.metadata, r.metadata);
  EXPECT_EQ(bytes.substr(0, 4), std::string("SSR\x01"));
}

TEST(RecordCodecTest, EveryFlippedByteIsDetected) {
  Record r;
  r.fields["x"] = Field{"value", false};
  std::string bytes = EncodeRecord(r);
  for (size_t i = 0; i < bytes.size(); ++i) {
    std::string bad = bytes;
    bad[i] ^= 0x40;
    absl::StatusOr<Record> d = DecodeRecord(bad);
    EXPECT_EQ(d.status().code(), absl::StatusCode::kDataLoss) << i;
  }
}

TEST(RecordCodecTest, TruncatedAndGarbage) {
  std::string bytes = EncodeRecord(Sample());
  EXPECT_THAT(DecodeRecord(bytes.substr(0, bytes.size() - 1)),
              StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(DecodeRecord(""),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("too short")));
  EXPECT_THAT(DecodeRecord("definitely not a record"),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("magic")));
}

// Re-seals the checksum so only the version differs.
std::string WithVersion(std::string bytes, uint8_t version);

TEST(RecordCodecTest, NewerVersionIsAClearError) {
  std::string bytes = WithVersion(EncodeRecord(Sample()), 7);
  EXPECT_THAT(DecodeRecord(bytes), StatusIs(absl::StatusCode::kFailedPrecondition,
                                            HasSubstr("version 7 is not supported")));
}

TEST(RecordCodecTest, UnknownTagsAreSkipped) {
  Record r;
  r.fields["x"] = Field{"v", false};
  std::string bytes = EncodeRecord(r);
  // Insert tag 99 (len 3) right after the header, then fix the checksum.
  std::string body = bytes.substr(4, bytes.size() - 12);
  std::string patched = bytes.substr(0, 4) + std::string("\x63\x03xyz", 5) + body;
  patched = WithVersion(patched + std::string(8, '\0'), 1);
  ASSERT_OK_AND_ASSIGN(Record back, DecodeRecord(patched));
  EXPECT_EQ(back.fields, r.fields);
}

// Found by tests/fuzz/record_codec_fuzzer: a field whose name length is
// 2^64-1 wrapped the bounds check (name_len + 1 == 0) and read the byte
// before the payload as the sealed flag.
TEST(RecordCodecTest, FieldNameLengthThatWrapsIsDataLoss) {
  const std::string huge("\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 10);
  for (const std::string& name_len : {huge, std::string("\x03", 1)}) {
    SCOPED_TRACE(name_len.size());
    const std::string payload = name_len + "abc";
    std::string bytes = std::string("SSR\x01\x01", 5) +
                        static_cast<char>(payload.size()) + payload +
                        std::string(8, '\0');
    EXPECT_THAT(DecodeRecord(WithVersion(bytes, 1)),
                StatusIs(absl::StatusCode::kDataLoss, HasSubstr("field header")));
  }
}

}  // namespace
}  // namespace sslshim::certstore

// Test helper, defined outside the anonymous namespace for brevity.
#include "openssl/sha.h"
namespace sslshim::certstore {
namespace {
std::string WithVersion(std::string bytes, uint8_t version) {
  bytes[3] = static_cast<char>(version);
  uint8_t d[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size() - 8, d);
  bytes.replace(bytes.size() - 8, 8, reinterpret_cast<char*>(d), 8);
  return bytes;
}
}  // namespace
}  // namespace sslshim::certstore
