#include "certstore/sealing.h"

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/status_matchers.h"

namespace sslshim::certstore {
namespace {

using ::sslshim::testing::IsOk;
using ::sslshim::testing::StatusIs;
using ::testing::HasSubstr;

constexpr char kHex1[] =
    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

class SealingTest : public ::testing::Test {
 protected:
  Kek kek1_ = *Kek::FromText(kHex1);
  Kek kek2_ = *Kek::FromBytes(std::string(32, 'k'));
  KeyPath path_ = *KeyPath::Of({"Employee", "asalieri", "Address", 1});
  std::string secret_ = "-----BEGIN PRIVATE KEY-----\nsecret bytes\n";
};

TEST_F(SealingTest, RoundTrip) {
  ASSERT_OK_AND_ASSIGN(std::string sealed, Seal(kek1_, path_, "key_str", secret_));
  EXPECT_TRUE(IsSealedValue(sealed));
  EXPECT_FALSE(absl::StrContains(sealed, "secret bytes"));
  ASSERT_OK_AND_ASSIGN(SecretBytes plain, Unseal(&kek1_, path_, "key_str", sealed));
  EXPECT_EQ(plain.view(), secret_);
  ASSERT_OK_AND_ASSIGN(std::string id, SealedKekId(sealed));
  EXPECT_EQ(id, kek1_.id());
}

TEST_F(SealingTest, KekTextForms) {
  std::string raw = absl::HexStringToBytes(kHex1);
  ASSERT_OK_AND_ASSIGN(Kek b64, Kek::FromText(absl::Base64Escape(raw)));
  EXPECT_EQ(b64.id(), kek1_.id());
  ASSERT_OK_AND_ASSIGN(Kek web, Kek::FromText(absl::WebSafeBase64Escape(raw) + "\n"));
  EXPECT_EQ(web.id(), kek1_.id());
  EXPECT_THAT(Kek::FromText("abcd"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("32 bytes")));
  EXPECT_THAT(Kek::FromBytes("short"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_NE(kek1_.id(), kek2_.id());
}

TEST_F(SealingTest, WrongOrMissingKek) {
  ASSERT_OK_AND_ASSIGN(std::string sealed, Seal(kek1_, path_, "key_str", secret_));
  EXPECT_THAT(Unseal(&kek2_, path_, "key_str", sealed),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("wrong KEK")));
  EXPECT_THAT(
      Unseal(nullptr, path_, "key_str", sealed),
      StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("no KEK is configured")));
}

TEST_F(SealingTest, MovedToAnotherRecordOrFieldFails) {
  ASSERT_OK_AND_ASSIGN(std::string sealed, Seal(kek1_, path_, "key_str", secret_));
  KeyPath other = *KeyPath::Of({"Employee", "mallory", "Address", 1});
  EXPECT_THAT(Unseal(&kek1_, other, "key_str", sealed),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("copied")));
  EXPECT_THAT(Unseal(&kek1_, path_, "key", sealed),
              StatusIs(absl::StatusCode::kDataLoss));
}

TEST_F(SealingTest, TruncatedAndTampered) {
  ASSERT_OK_AND_ASSIGN(std::string sealed, Seal(kek1_, path_, "key_str", secret_));
  for (size_t n : {size_t{0}, size_t{3}, size_t{20}, size_t{39}}) {
    EXPECT_THAT(Unseal(&kek1_, path_, "key_str", sealed.substr(0, n)),
                StatusIs(absl::StatusCode::kDataLoss))
        << n;
  }
  EXPECT_THAT(Unseal(&kek1_, path_, "key_str", sealed.substr(0, sealed.size() - 1)),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("truncated")));
  std::string flipped = sealed;
  flipped[30] ^= 1;
  EXPECT_THAT(Unseal(&kek1_, path_, "key_str", flipped),
              StatusIs(absl::StatusCode::kDataLoss));
}

TEST_F(SealingTest, SecretBytesMoves) {
  SecretBytes a(std::string(100, 'x'));
  SecretBytes b = std::move(a);
  EXPECT_EQ(b.size(), 100u);
  EXPECT_EQ(a.size(), 0u);  // NOLINT(bugprone-use-after-move)
}

}  // namespace
}  // namespace sslshim::certstore
