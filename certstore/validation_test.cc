#include "certstore/validation.h"

#include <time.h>

#include "certstore/testing/test_certs.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "openssl/bn.h"
#include "openssl/bytestring.h"
#include "openssl/ec_key.h"
#include "openssl/evp.h"
#include "openssl/mem.h"
#include "openssl/rsa.h"
#include "testing/status_matchers.h"

namespace sslshim::certstore {
namespace {

using ::sslshim::certstore::testing::CertToDer;
using ::sslshim::certstore::testing::KeyToDer;
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

// Issue 8 item 8: DER private keys are key fields too, in any field.
TEST_F(ValidationTest, DerKeyInAnyFieldIsAKeyField) {
  // PKCS#8.
  const std::string pkcs8 = KeyToDer(leaf_.key.get());
  EXPECT_TRUE(LooksLikeDerPrivateKey(pkcs8));
  EXPECT_TRUE(IsKeyField("backup", pkcs8));
  // Traditional ECPrivateKey (SEC 1), with and without its public key.
  const EC_KEY* ec = EVP_PKEY_get0_EC_KEY(leaf_.key.get());
  ASSERT_NE(ec, nullptr);
  uint8_t* der = nullptr;
  size_t len = 0;
  std::string sec1;
  for (unsigned flags : {0u, unsigned{EC_PKEY_NO_PUBKEY}}) {
    bssl::ScopedCBB cbb;
    ASSERT_TRUE(CBB_init(cbb.get(), 0));
    ASSERT_TRUE(EC_KEY_marshal_private_key(cbb.get(), ec, flags));
    ASSERT_TRUE(CBB_finish(cbb.get(), &der, &len));
    std::string encoded(reinterpret_cast<char*>(der), len);
    OPENSSL_free(der);
    EXPECT_TRUE(IsKeyField("backup", encoded)) << flags;
    if (flags == 0) sec1 = encoded;
  }
  // Traditional RSAPrivateKey (PKCS#1).
  bssl::UniquePtr<RSA> rsa(RSA_new());
  bssl::UniquePtr<BIGNUM> e(BN_new());
  ASSERT_TRUE(BN_set_word(e.get(), RSA_F4));
  ASSERT_TRUE(RSA_generate_key_ex(rsa.get(), 2048, e.get(), nullptr));
  ASSERT_TRUE(
      RSA_private_key_to_bytes(reinterpret_cast<uint8_t**>(&der), &len, rsa.get()));
  const std::string pkcs1(reinterpret_cast<char*>(der), len);
  OPENSSL_free(der);
  EXPECT_TRUE(IsKeyField("backup", pkcs1));
  // Not keys: a DER certificate, a key with trailing bytes, ASN.1-ish noise.
  EXPECT_FALSE(IsKeyField("backup", CertToDer(leaf_.cert.get())));
  EXPECT_FALSE(IsKeyField("backup", pkcs8 + "x"));
  EXPECT_FALSE(
      IsKeyField("backup", std::string("\x30\x82\x01\x00") + std::string(256, 'A')));
  EXPECT_FALSE(IsKeyField("note", "hello"));
  // A DER key in a second field is a second key, as with PEM.
  EXPECT_THAT(ValidateFields({{"key_str", leaf_.key_pem}, {"backup", sec1}}, Opts()),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("both")));
  EXPECT_THAT(ValidateFields({{"backup", pkcs1}}, Opts()), IsOk());
}

}  // namespace
}  // namespace sslshim::certstore
