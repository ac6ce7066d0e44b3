#include "certstore/x509_info.h"

#include "certstore/testing/test_certs.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
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

class X509InfoTest : public ::testing::Test {
 protected:
  TestIdentity ca_ = MakeTestCert({.common_name = "Test CA", .is_ca = true});
  TestIdentity inter_ =
      MakeTestCert({.common_name = "Test Intermediate", .is_ca = true}, &ca_);
  TestIdentity leaf_ = MakeTestCert(
      {.common_name = "a.example", .dns_sans = {"a.example", "b.example"}}, &inter_);
};

TEST_F(X509InfoTest, ParsesPemChainAndDer) {
  ASSERT_OK_AND_ASSIGN(CertChain chain,
                       ParseCertificates(leaf_.cert_pem + inter_.cert_pem, "cert"));
  EXPECT_EQ(chain.size(), 2u);
  ASSERT_OK_AND_ASSIGN(CertChain der,
                       ParseCertificates(CertToDer(leaf_.cert.get()), "cert"));
  EXPECT_EQ(der.size(), 1u);
}

TEST_F(X509InfoTest, RejectsNonCertificates) {
  EXPECT_THAT(ParseCertificates("hello world", "cert"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("cert:")));
  EXPECT_THAT(ParseCertificates("-----BEGIN CERTIFICATE-----\nAAAA\n-----END "
                                "CERTIFICATE-----\n",
                                "ca"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("ca:")));
  std::string der = CertToDer(leaf_.cert.get());
  EXPECT_THAT(ParseCertificates(der.substr(0, der.size() - 3), "cert"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseCertificates(der + "x", "cert"),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(X509InfoTest, ParsesKeysPemAndDer) {
  EXPECT_THAT(ParsePrivateKey(leaf_.key_pem, "key_str"), IsOk());
  EXPECT_THAT(ParsePrivateKey(KeyToDer(leaf_.key.get()), "key_str"), IsOk());
  absl::StatusOr<bssl::UniquePtr<EVP_PKEY>> bad = ParsePrivateKey("not a key", "key_str");
  EXPECT_THAT(bad, StatusIs(absl::StatusCode::kInvalidArgument,
                            HasSubstr("key_str: not a PEM or DER private key")));
  EXPECT_THAT(ParsePrivateKey("-----BEGIN ENCRYPTED PRIVATE KEY-----\nAA\n", "k"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("encrypted")));
}

TEST_F(X509InfoTest, DescribesLeaf) {
  CertInfo info = DescribeCertificate(leaf_.cert.get());
  EXPECT_EQ(info.subject, "CN=a.example");
  EXPECT_EQ(info.issuer, "CN=Test Intermediate");
  EXPECT_THAT(info.sans, ElementsAre("DNS:a.example", "DNS:b.example"));
  EXPECT_EQ(info.key_type, "EC-P256");
  EXPECT_EQ(info.sha256_fingerprint.size(), 32u * 3 - 1);
  EXPECT_GT(info.not_after, info.not_before);
  EXPECT_NEAR(info.not_after - info.not_before, 86400 * 30 + 3600, 5);
}

TEST_F(X509InfoTest, KeyMatch) {
  EXPECT_THAT(CheckKeyMatchesCertificate(leaf_.cert.get(), leaf_.key.get()), IsOk());
  EXPECT_THAT(CheckKeyMatchesCertificate(leaf_.cert.get(), ca_.key.get()),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("does not match")));
}

TEST_F(X509InfoTest, ChainOrder) {
  ASSERT_OK_AND_ASSIGN(
      CertChain good,
      ParseCertificates(leaf_.cert_pem + inter_.cert_pem + ca_.cert_pem, "c"));
  EXPECT_THAT(CheckChainOrder(good, "cert"), IsOk());
  ASSERT_OK_AND_ASSIGN(
      CertChain bad,
      ParseCertificates(leaf_.cert_pem + ca_.cert_pem + inter_.cert_pem, "c"));
  EXPECT_THAT(CheckChainOrder(bad, "cert"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("out of order: certificate 1")));
}

}  // namespace
}  // namespace sslshim::certstore
