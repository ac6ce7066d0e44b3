#include "certstore/validation.h"

#include <time.h>

#include "certstore/testing/test_certs.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/status_matchers.h"

namespace sslshim::certstore {
namespace {

using ::sslshim::certstore::testing::MakeTestCert;
using ::sslshim::certstore::testing::TestIdentity;
using ::sslshim::testing::IsOk;
using ::sslshim::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

class ValidationTest : public ::testing::Test {
 protected:
  ValidationOptions Opts(bool allow_expired = false) {
    return {.allow_expired = allow_expired, .now = time(nullptr)};
  }
  TestIdentity ca_ = MakeTestCert({.common_name = "CA", .is_ca = true});
  TestIdentity leaf_ =
      MakeTestCert({.common_name = "a.example", .dns_sans = {"a.example"}}, &ca_);
};

TEST_F(ValidationTest, GoodRecordYieldsMetadata) {
  ASSERT_OK_AND_ASSIGN(RecordMetadata md,
                       ValidateFields({{"cert", leaf_.cert_pem + ca_.cert_pem},
                                       {"key_str", leaf_.key_pem},
                                       {"ca", ca_.cert_pem},
                                       {"note", "anything"}},
                                      Opts()));
  EXPECT_EQ(md.subject, "CN=a.example");
  EXPECT_THAT(md.sans, ElementsAre("DNS:a.example"));
  EXPECT_EQ(md.key_type, "EC-P256");
  EXPECT_FALSE(md.sha256_fingerprint.empty());
}

TEST_F(ValidationTest, KeyCertMismatch) {
  EXPECT_THAT(
      ValidateFields({{"cert", leaf_.cert_pem}, {"key_str", ca_.key_pem}}, Opts()),
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr("key_str: private key does not match")));
}

TEST_F(ValidationTest, NonPemInput) {
  EXPECT_THAT(ValidateFields({{"cert", "hello"}}, Opts()),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("cert:")));
  EXPECT_THAT(ValidateFields({{"key_str", "hello"}}, Opts()),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("key_str:")));
  EXPECT_THAT(ValidateFields({{"ca", "hello"}}, Opts()),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("ca:")));
}

TEST_F(ValidationTest, ChainOutOfOrder) {
  EXPECT_THAT(ValidateFields({{"cert", ca_.cert_pem + leaf_.cert_pem}}, Opts()),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("order")));
}

TEST_F(ValidationTest, ExpiredNeedsFlag) {
  TestIdentity old = MakeTestCert({.common_name = "old",
                                   .not_before_offset = -86400 * 10,
                                   .not_after_offset = -86400},
                                  &ca_);
  std::map<std::string, std::string> f = {{"cert", old.cert_pem},
                                          {"key_str", old.key_pem}};
  EXPECT_THAT(ValidateFields(f, Opts()),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("expired")));
  EXPECT_THAT(ValidateFields(f, Opts(/*allow_expired=*/true)), IsOk());
}

TEST_F(ValidationTest, FieldNamesAndEmptyValues) {
  EXPECT_THAT(ValidateFields({}, Opts()), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ValidateFields({{"bad name", "x"}}, Opts()),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("field name")));
  EXPECT_THAT(ValidateFields({{"x", ""}}, Opts()),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("empty")));
}

TEST_F(ValidationTest, KeyInAnyFieldIsAKeyField) {
  EXPECT_TRUE(IsKeyField("other", leaf_.key_pem));
  EXPECT_TRUE(IsKeyField("key", "x"));
  EXPECT_FALSE(IsKeyField("cert", leaf_.cert_pem));
  EXPECT_THAT(ValidateFields({{"key_str", leaf_.key_pem}, {"k2", ca_.key_pem}}, Opts()),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("both")));
}

}  // namespace
}  // namespace sslshim::certstore
