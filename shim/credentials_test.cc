#include "shim/credentials.h"

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/match.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "openssl/err.h"
#include "openssl/evp.h"
#include "openssl/x509.h"
#include "shim/errors.h"
#include "testing/cert_builder.h"
#include "testing/status_matchers.h"

namespace sslshim::shim {
namespace {

using ::sslshim::testing::CrlDer;
using ::sslshim::testing::CrlPem;
using ::sslshim::testing::Issued;
using ::sslshim::testing::KeyType;
using ::sslshim::testing::Pkcs12;
using ::sslshim::testing::Pkcs12CertsOnly;
using ::sslshim::testing::SharedTestPki;
using ::sslshim::testing::StatusIs;
using ::sslshim::testing::TestPki;
using ::testing::AllOf;
using ::testing::HasSubstr;

constexpr KeyType kAllKeyTypes[] = {KeyType::kP256, KeyType::kP384, KeyType::kRsa2048,
                                    KeyType::kEd25519};
constexpr absl::string_view kPassword = "correct horse battery staple";

std::string ParamName(const ::testing::TestParamInfo<KeyType>& info) {
  return ::sslshim::testing::KeyTypeName(info.param);
}

bool HasTraditionalForm(KeyType type) { return type != KeyType::kEd25519; }

// InvalidArg matches an InvalidArgument status of kind SSLError whose message
// contains `text`.
MATCHER_P(InvalidArg, text, "is InvalidArgument containing \"" + std::string(text) + "\"") {
  const absl::Status& s = ::sslshim::testing::internal::GetStatus(arg);
  *result_listener << "status is " << s;
  return s.code() == absl::StatusCode::kInvalidArgument &&
         GetErrorKind(s) == ErrorKind::kSSLError &&
         absl::StrContains(s.message(), std::string(text));
}

// ---- Certificate chains ----------------------------------------------------

class CertChainTest : public ::testing::TestWithParam<KeyType> {
 protected:
  const TestPki& pki() { return SharedTestPki(GetParam()); }
};

TEST_P(CertChainTest, PemChainKeepsOrder) {
  ASSERT_OK_AND_ASSIGN(CertChain chain, ParseCertChain(pki().ServerChainPem(), "certfile"));
  ASSERT_EQ(chain.size(), 2u);
  EXPECT_EQ(X509_cmp(chain[0].get(), pki().server.cert.get()), 0);
  EXPECT_EQ(X509_cmp(chain[1].get(), pki().intermediate.cert.get()), 0);
}

TEST_P(CertChainTest, SingleDer) {
  ASSERT_OK_AND_ASSIGN(CertChain chain, ParseCertChain(pki().server.CertDer(), "certfile"));
  ASSERT_EQ(chain.size(), 1u);
  EXPECT_EQ(X509_cmp(chain[0].get(), pki().server.cert.get()), 0);
}

TEST_P(CertChainTest, SkipsKeyBlocksAndText) {
  std::string combined = absl::StrCat("Subject: localhost\n", pki().server.KeyPem(),
                                      pki().ServerChainPem(), "trailing notes\n");
  ASSERT_OK_AND_ASSIGN(CertChain chain, ParseCertChain(combined, "certfile"));
  EXPECT_EQ(chain.size(), 2u);
}

TEST_P(CertChainTest, CrlfLineEndings) {
  std::string pem = pki().server.CertPem();
  std::string crlf = absl::StrReplaceAll(pem, {{"\n", "\r\n"}});
  EXPECT_OK(ParseCertChain(crlf, "certfile"));
}

TEST_P(CertChainTest, NoFinalNewline) {
  std::string pem = pki().ServerChainPem();
  pem.pop_back();
  ASSERT_OK_AND_ASSIGN(CertChain chain, ParseCertChain(pem, "certfile"));
  EXPECT_EQ(chain.size(), 2u);
}

TEST_P(CertChainTest, DerTrailingGarbage) {
  EXPECT_THAT(ParseCertChain(pki().server.CertDer() + "junk", "certfile"),
              InvalidArg("certfile: trailing garbage after the DER certificate"));
}

TEST_P(CertChainTest, DerTruncatedAtSeveralOffsets) {
  std::string der = pki().server.CertDer();
  for (size_t cut : {size_t{1}, size_t{3}, size_t{10}, der.size() / 2, der.size() - 1}) {
    SCOPED_TRACE(cut);
    EXPECT_THAT(ParseCertChain(der.substr(0, cut), "certfile"),
                InvalidArg("certfile: truncated DER"));
  }
}

TEST_P(CertChainTest, PemTruncatedAtSeveralOffsets) {
  std::string pem = pki().ServerChainPem();
  size_t second = pem.find("-----BEGIN", 1);
  for (size_t cut : {size_t{12}, size_t{30}, size_t{100}, second - 10, second + 40,
                     pem.size() - 10, pem.size() - 2}) {
    SCOPED_TRACE(cut);
    EXPECT_THAT(ParseCertChain(pem.substr(0, cut), "certfile"), InvalidArg("certfile: "));
  }
  EXPECT_THAT(ParseCertChain(pem.substr(0, 100), "certfile"),
              InvalidArg("truncated PEM: the 'CERTIFICATE' block has no END line"));
}

INSTANTIATE_TEST_SUITE_P(AllKeyTypes, CertChainTest, ::testing::ValuesIn(kAllKeyTypes),
                         ParamName);

TEST(CertChainErrors, Empty) {
  EXPECT_THAT(ParseCertChain("", "certfile"),
              InvalidArg("certfile: empty input: no certificate found"));
}

TEST(CertChainErrors, NotPemOrDer) {
  EXPECT_THAT(ParseCertChain("hello, world\n", "certfile"),
              InvalidArg("certfile: no certificate found: the input is neither PEM nor DER"));
}

TEST(CertChainErrors, WrongBlockType) {
  const TestPki& pki = SharedTestPki(KeyType::kP256);
  EXPECT_THAT(ParseCertChain(pki.server.KeyPem(), "certfile"),
              InvalidArg("certfile: no certificate found (PEM blocks found: 'PRIVATE KEY')"));
  EXPECT_THAT(ParseCertChain("-----BEGIN FOO-----\nAAAA\n-----END FOO-----\n", "certfile"),
              InvalidArg("no certificate found (PEM blocks found: unrecognised)"));
}

TEST(CertChainErrors, BadBase64) {
  std::string pem = SharedTestPki(KeyType::kP256).server.CertPem();
  pem.replace(pem.find('\n') + 5, 4, "!!!!");
  EXPECT_THAT(ParseCertChain(pem, "certfile"),
              InvalidArg("certfile: malformed PEM in the 'CERTIFICATE' block"));
}

TEST(CertChainErrors, PemOfGarbageDer) {
  std::string pem = "-----BEGIN CERTIFICATE-----\nMAMCAQE=\n-----END CERTIFICATE-----\n";
  EXPECT_THAT(ParseCertChain(pem, "certfile"), InvalidArg("certfile: malformed certificate"));
}

TEST(CertChainErrors, MissingBlockLine) {
  // A missing base64 line leaves a well-framed PEM whose DER is short.
  std::string pem = SharedTestPki(KeyType::kP256).server.CertPem();
  std::vector<std::string> lines = absl::StrSplit(pem, '\n');
  lines.erase(lines.begin() + 3);
  EXPECT_THAT(ParseCertChain(absl::StrJoin(lines, "\n"), "certfile"),
              InvalidArg("certfile: malformed"));
}

// ---- CA bundles ------------------------------------------------------------

TEST(CaCertificates, PemBundleSkipsOtherBlocks) {
  const TestPki& pki = SharedTestPki(KeyType::kP256);
  std::string bundle = absl::StrCat("# bundle\n", pki.RootPem(), CrlPem(pki.root, {}),
                                    pki.intermediate.KeyPem(), pki.intermediate.CertPem());
  ASSERT_OK_AND_ASSIGN(CertChain certs, ParseCaCertificates(bundle, "cadata"));
  ASSERT_EQ(certs.size(), 2u);
  EXPECT_EQ(X509_cmp(certs[0].get(), pki.root.cert.get()), 0);
  EXPECT_EQ(X509_cmp(certs[1].get(), pki.intermediate.cert.get()), 0);
}

TEST(CaCertificates, ConcatenatedDer) {
  const TestPki& pki = SharedTestPki(KeyType::kRsa2048);
  ASSERT_OK_AND_ASSIGN(
      CertChain certs,
      ParseCaCertificates(pki.root.CertDer() + pki.intermediate.CertDer(), "cadata"));
  EXPECT_EQ(certs.size(), 2u);
}

TEST(CaCertificates, Errors) {
  const TestPki& pki = SharedTestPki(KeyType::kP256);
  EXPECT_THAT(ParseCaCertificates("", "cadata"), InvalidArg("cadata: empty CA bundle"));
  EXPECT_THAT(ParseCaCertificates(pki.root.KeyPem(), "cadata"),
              InvalidArg("cadata: no certificate found"));
  EXPECT_THAT(ParseCaCertificates("no certificates here", "cadata"),
              InvalidArg("cadata: no certificate found"));
  std::string der = pki.root.CertDer();
  EXPECT_THAT(ParseCaCertificates(der + der.substr(0, 20), "cadata"),
              InvalidArg("cadata: truncated DER"));
  EXPECT_THAT(ParseCaCertificates(der + "\x30\x03\x02\x01\x01", "cadata"),
              InvalidArg("cadata: malformed certificate"));
}

// ---- Private keys ----------------------------------------------------------

class PrivateKeyTest : public ::testing::TestWithParam<KeyType> {
 protected:
  const Issued& server() { return SharedTestPki(GetParam()).server; }

  void ExpectKey(absl::string_view bytes, const Password& password) {
    absl::StatusOr<bssl::UniquePtr<EVP_PKEY>> key =
        ParsePrivateKey(bytes, password, "keyfile");
    ASSERT_OK(key);
    EXPECT_EQ(EVP_PKEY_cmp(key->get(), server().key.get()), 1);
    EXPECT_OK(CheckKeyMatchesCertificate(key->get(), server().cert.get(), "keyfile"));
  }
};

TEST_P(PrivateKeyTest, Pkcs8Pem) { ExpectKey(server().KeyPem(), Password::None()); }

TEST_P(PrivateKeyTest, Pkcs8Der) { ExpectKey(server().KeyDer(), Password::None()); }

TEST_P(PrivateKeyTest, EncryptedPkcs8PemWithString) {
  std::string pem = server().KeyPemEncrypted(std::string(kPassword));
  EXPECT_TRUE(IsEncryptedPrivateKey(pem));
  ExpectKey(pem, Password::Of(std::string(kPassword)));
}

TEST_P(PrivateKeyTest, EncryptedPkcs8DerWithCallback) {
  std::string der = server().KeyDerEncrypted(std::string(kPassword));
  EXPECT_TRUE(IsEncryptedPrivateKey(der));
  int calls = 0;
  ExpectKey(der, Password::From([&]() -> absl::StatusOr<std::string> {
              ++calls;
              return std::string(kPassword);
            }));
  EXPECT_EQ(calls, 1);
}

// Traditional (RSAPrivateKey / ECPrivateKey) forms exist for RSA and EC keys
// only; Ed25519 has PKCS#8 alone.
class TraditionalKeyTest : public PrivateKeyTest {};

TEST_P(TraditionalKeyTest, TraditionalPemAndDer) {
  ExpectKey(server().KeyPemTraditional(), Password::None());
  ExpectKey(server().KeyDerTraditional(), Password::None());
}

TEST_P(TraditionalKeyTest, LegacyEncryptedPem) {
  std::string pem = server().KeyPemTraditionalEncrypted(std::string(kPassword));
  EXPECT_TRUE(IsEncryptedPrivateKey(pem));
  ExpectKey(pem, Password::Of(std::string(kPassword)));
  EXPECT_THAT(ParsePrivateKey(pem, Password::Of("wrong"), "keyfile"),
              InvalidArg("keyfile: wrong password"));
}

TEST_P(PrivateKeyTest, KeyInCertfile) {
  std::string combined = server().CertPem() + server().KeyPem();
  ExpectKey(combined, Password::None());
}

TEST_P(PrivateKeyTest, CallbackNotCalledForPlainKeys) {
  int calls = 0;
  Password password = Password::From([&]() -> absl::StatusOr<std::string> {
    ++calls;
    return std::string("unused");
  });
  ExpectKey(server().KeyPem(), password);
  ExpectKey(server().KeyDer(), password);
  EXPECT_EQ(calls, 0);
  EXPECT_FALSE(IsEncryptedPrivateKey(server().KeyPem()));
  EXPECT_FALSE(IsEncryptedPrivateKey(server().KeyDer()));
}

TEST_P(PrivateKeyTest, WrongPassword) {
  for (const std::string& bytes : {server().KeyPemEncrypted(std::string(kPassword)),
                                   server().KeyDerEncrypted(std::string(kPassword))}) {
    EXPECT_THAT(ParsePrivateKey(bytes, Password::Of("nope"), "keyfile"),
                InvalidArg("keyfile: wrong password for the encrypted private key"));
    EXPECT_THAT(ParsePrivateKey(bytes, Password::Of(""), "keyfile"),
                InvalidArg("keyfile: wrong password"));
  }
}

TEST_P(PrivateKeyTest, MissingPassword) {
  EXPECT_THAT(
      ParsePrivateKey(server().KeyPemEncrypted(std::string(kPassword)), Password::None(),
                      "keyfile"),
      InvalidArg("keyfile: the private key is encrypted and no password was given"));
}

TEST_P(PrivateKeyTest, CallbackErrorPropagates) {
  Password failing = Password::From([]() -> absl::StatusOr<std::string> {
    return absl::PermissionDeniedError("vault is locked");
  });
  absl::StatusOr<bssl::UniquePtr<EVP_PKEY>> key = ParsePrivateKey(
      server().KeyPemEncrypted(std::string(kPassword)), failing, "keyfile");
  EXPECT_THAT(key, StatusIs(absl::StatusCode::kPermissionDenied,
                            "keyfile: password callback failed: vault is locked"));
}

TEST_P(PrivateKeyTest, Mismatch) {
  const TestPki& pki = SharedTestPki(GetParam());
  EXPECT_THAT(CheckKeyMatchesCertificate(pki.client.key.get(), pki.server.cert.get(),
                                         "keyfile"),
              InvalidArg("keyfile: [X509: KEY_VALUES_MISMATCH] key values mismatch"));
  const TestPki& other = SharedTestPki(GetParam() == KeyType::kP256 ? KeyType::kRsa2048
                                                                   : KeyType::kP256);
  EXPECT_THAT(
      CheckKeyMatchesCertificate(other.server.key.get(), pki.server.cert.get(), "keyfile"),
      InvalidArg("mismatch"));
}

TEST_P(PrivateKeyTest, DerTrailingGarbageAndTruncation) {
  std::string der = server().KeyDer();
  EXPECT_THAT(ParsePrivateKey(der + "x", Password::None(), "keyfile"),
              InvalidArg("keyfile: trailing garbage after the DER private key"));
  for (size_t cut : {size_t{1}, size_t{5}, der.size() / 2, der.size() - 1}) {
    SCOPED_TRACE(cut);
    EXPECT_THAT(ParsePrivateKey(der.substr(0, cut), Password::None(), "keyfile"),
                InvalidArg("keyfile: truncated DER"));
  }
}

TEST_P(PrivateKeyTest, PemTruncation) {
  std::string pem = server().KeyPem();
  for (size_t cut : {size_t{5}, size_t{20}, size_t{40}, pem.size() / 2, pem.size() - 3}) {
    SCOPED_TRACE(cut);
    EXPECT_THAT(ParsePrivateKey(pem.substr(0, cut), Password::None(), "keyfile"),
                InvalidArg("keyfile: "));
  }
}

INSTANTIATE_TEST_SUITE_P(AllKeyTypes, PrivateKeyTest, ::testing::ValuesIn(kAllKeyTypes),
                         ParamName);
INSTANTIATE_TEST_SUITE_P(RsaAndEc, TraditionalKeyTest,
                         ::testing::Values(KeyType::kP256, KeyType::kP384,
                                           KeyType::kRsa2048),
                         ParamName);

TEST(PrivateKeyErrors, NoKey) {
  const TestPki& pki = SharedTestPki(KeyType::kP256);
  EXPECT_THAT(ParsePrivateKey("", Password::None(), "keyfile"),
              InvalidArg("keyfile: empty input"));
  EXPECT_THAT(ParsePrivateKey("just some text", Password::None(), "keyfile"),
              InvalidArg("keyfile: no private key found"));
  EXPECT_THAT(ParsePrivateKey(pki.server.CertPem(), Password::None(), "keyfile"),
              InvalidArg("keyfile: no private key found (PEM blocks found: 'CERTIFICATE')"));
  EXPECT_THAT(ParsePrivateKey(pki.server.CertDer(), Password::None(), "keyfile"),
              InvalidArg("keyfile: malformed private key"));
  EXPECT_FALSE(IsEncryptedPrivateKey(pki.server.CertDer()));
  EXPECT_FALSE(IsEncryptedPrivateKey("garbage"));
}

TEST(PrivateKeyErrors, PasswordLength) {
  const Issued& server = SharedTestPki(KeyType::kP256).server;
  std::string longest(kMaxPasswordLength, 'p');
  std::string pem = server.KeyPemEncrypted(longest);
  EXPECT_OK(ParsePrivateKey(pem, Password::Of(longest), "keyfile"));
  EXPECT_THAT(ParsePrivateKey(pem, Password::Of(longest + "p"), "keyfile"),
              InvalidArg("keyfile: the password is longer than 1024 bytes"));
  EXPECT_THAT(ParsePrivateKey(pem, Password::From([&]() -> absl::StatusOr<std::string> {
                                return longest + "p";
                              }),
                              "keyfile"),
              InvalidArg("keyfile: the password is longer than 1024 bytes"));
}

TEST(PrivateKeyErrors, UnencryptedPemWithBogusEncryptionHeader) {
  std::string pem = SharedTestPki(KeyType::kP256).server.KeyPemTraditional();
  pem.insert(pem.find('\n') + 1, "Proc-Type: 4,ENCRYPTED\nDEK-Info: NOPE,00\n\n");
  EXPECT_TRUE(IsEncryptedPrivateKey(pem));
  EXPECT_THAT(ParsePrivateKey(pem, Password::Of("x"), "keyfile"), InvalidArg("keyfile: "));
}

// ---- CRLs ------------------------------------------------------------------

TEST(Crls, PemSequenceAndDer) {
  const TestPki& pki = SharedTestPki(KeyType::kP256);
  ASSERT_OK_AND_ASSIGN(auto crls,
                       ParseCrls(CrlPem(pki.root, {}) +
                                     CrlPem(pki.intermediate, {&pki.server}),
                                 "crl"));
  ASSERT_EQ(crls.size(), 2u);
  EXPECT_EQ(X509_NAME_cmp(X509_CRL_get_issuer(crls[1].get()),
                          X509_get_subject_name(pki.intermediate.cert.get())),
            0);
  ASSERT_OK_AND_ASSIGN(auto der, ParseCrls(CrlDer(pki.root, {}), "crl"));
  EXPECT_EQ(der.size(), 1u);
}

TEST(Crls, Errors) {
  const TestPki& pki = SharedTestPki(KeyType::kP256);
  EXPECT_THAT(ParseCrls(pki.RootPem(), "crl"),
              InvalidArg("crl: no CRL found (PEM blocks found: 'CERTIFICATE')"));
  std::string pem = CrlPem(pki.root, {});
  EXPECT_THAT(ParseCrls(pem.substr(0, pem.size() / 2), "crl"),
              InvalidArg("crl: truncated PEM"));
  std::string der = CrlDer(pki.root, {});
  EXPECT_THAT(ParseCrls(der.substr(0, der.size() - 4), "crl"),
              InvalidArg("crl: truncated DER"));
  EXPECT_THAT(ParseCrls(pki.root.CertDer(), "crl"), InvalidArg("crl: malformed CRL"));
  EXPECT_THAT(ParseCrls("", "crl"), InvalidArg("crl: empty input"));
}

// ---- PKCS#12 ---------------------------------------------------------------

class Pkcs12Test : public ::testing::TestWithParam<KeyType> {
 protected:
  const TestPki& pki() { return SharedTestPki(GetParam()); }
  std::string Bundle(const std::string& password) {
    return Pkcs12(pki().server, {&pki().intermediate}, password);
  }
};

TEST_P(Pkcs12Test, ParsesKeyAndChain) {
  ASSERT_OK_AND_ASSIGN(Pkcs12Contents p12,
                       ParsePkcs12(Bundle(std::string(kPassword)),
                                   Password::Of(std::string(kPassword)), "pkcs12"));
  EXPECT_EQ(EVP_PKEY_cmp(p12.key.get(), pki().server.key.get()), 1);
  ASSERT_EQ(p12.chain.size(), 2u);
  EXPECT_EQ(X509_cmp(p12.chain[0].get(), pki().server.cert.get()), 0);
  EXPECT_EQ(X509_cmp(p12.chain[1].get(), pki().intermediate.cert.get()), 0);
}

TEST_P(Pkcs12Test, CallbackAndEmptyPassword) {
  EXPECT_OK(ParsePkcs12(Bundle("p"), Password::From([]() -> absl::StatusOr<std::string> {
                          return std::string("p");
                        }),
                        "pkcs12"));
  EXPECT_OK(ParsePkcs12(Bundle(""), Password::None(), "pkcs12"));
}

TEST_P(Pkcs12Test, WrongPassword) {
  EXPECT_THAT(ParsePkcs12(Bundle(std::string(kPassword)), Password::Of("nope"), "pkcs12"),
              InvalidArg("pkcs12: wrong password for the PKCS#12 bundle"));
  EXPECT_THAT(ParsePkcs12(Bundle(std::string(kPassword)), Password::None(), "pkcs12"),
              InvalidArg("pkcs12: wrong password"));
}

TEST_P(Pkcs12Test, Malformed) {
  std::string der = Bundle("p");
  for (size_t cut : {size_t{0}, size_t{1}, size_t{20}, der.size() / 2, der.size() - 1}) {
    SCOPED_TRACE(cut);
    EXPECT_THAT(ParsePkcs12(der.substr(0, cut), Password::Of("p"), "pkcs12"),
                InvalidArg("pkcs12: "));
  }
  EXPECT_THAT(ParsePkcs12(pki().server.CertPem(), Password::Of("p"), "pkcs12"),
              InvalidArg("pkcs12: not a DER PKCS#12 bundle"));
  EXPECT_THAT(ParsePkcs12(der + "junk", Password::Of("p"), "pkcs12"),
              InvalidArg("pkcs12: trailing garbage after the PKCS#12 bundle"));
}

INSTANTIATE_TEST_SUITE_P(AllKeyTypes, Pkcs12Test, ::testing::ValuesIn(kAllKeyTypes),
                         ParamName);

TEST(Pkcs12Errors, NoKey) {
  const TestPki& pki = SharedTestPki(KeyType::kP256);
  EXPECT_THAT(ParsePkcs12(Pkcs12CertsOnly({&pki.server}, "p"), Password::Of("p"), "pkcs12"),
              InvalidArg("pkcs12: the PKCS#12 bundle holds no private key"));
}

// ---- Secrets never appear in errors ----------------------------------------

// KeyFragments returns every 8-byte window of the key's DER and every 8-char
// window of its PEM base64 body: no error message may contain any of them.
std::vector<std::string> KeyFragments(const Issued& issued) {
  std::vector<std::string> out;
  for (const std::string& s : {issued.KeyDer(), issued.KeyPem()}) {
    for (absl::string_view line : absl::StrSplit(s, '\n')) {
      if (absl::StartsWith(line, "-----")) continue;
      for (size_t i = 0; i + 8 <= line.size(); ++i) out.emplace_back(line.substr(i, 8));
    }
  }
  return out;
}

TEST(ErrorMessages, NeverContainKeyBytes) {
  const TestPki& pki = SharedTestPki(KeyType::kRsa2048);
  const Issued& key = pki.server;
  std::string pem = key.KeyPem();
  std::string der = key.KeyDer();
  std::string bad_b64 = pem;
  bad_b64[40] = '!';
  std::vector<absl::Status> errors = {
      ParsePrivateKey(pem.substr(0, pem.size() - 30), Password::None(), "keyfile").status(),
      ParsePrivateKey(bad_b64, Password::None(), "keyfile").status(),
      ParsePrivateKey(der + "garbage", Password::None(), "keyfile").status(),
      ParsePrivateKey(der.substr(0, 300), Password::None(), "keyfile").status(),
      ParsePrivateKey(key.KeyPemEncrypted("pw"), Password::Of("bad"), "keyfile").status(),
      ParsePrivateKey(key.KeyPemTraditionalEncrypted("pw"), Password::Of("bad"), "keyfile")
          .status(),
      ParsePrivateKey(key.KeyPemEncrypted("pw"), Password::None(), "keyfile").status(),
      ParseCertChain(pem, "certfile").status(),
      ParseCertChain(der, "certfile").status(),
      ParseCaCertificates(pem + der, "cadata").status(),
      ParseCrls(pem, "crl").status(),
      ParsePkcs12(der, Password::None(), "pkcs12").status(),
      CheckKeyMatchesCertificate(key.key.get(), pki.client.cert.get(), "keyfile"),
  };
  std::vector<std::string> fragments = KeyFragments(key);
  for (const absl::Status& s : errors) {
    ASSERT_FALSE(s.ok());
    std::string message(s.message());
    for (const std::string& f : fragments) {
      ASSERT_FALSE(absl::StrContains(message, f))
          << "error message contains key bytes: " << absl::CHexEscape(message);
    }
  }
}

// ---- Random corruption never crashes ---------------------------------------

// Mutate returns `in` truncated at a random offset or with 1-4 random bit
// flips (half each).
std::string Mutate(const std::string& in, std::mt19937& rng) {
  std::string out = in;
  if (rng() % 2 == 0) {
    out.resize(rng() % (in.size() + 1));
    return out;
  }
  int flips = 1 + rng() % 4;
  for (int i = 0; i < flips && !out.empty(); ++i) {
    out[rng() % out.size()] ^= static_cast<char>(1u << (rng() % 8));
  }
  return out;
}

// ExpectCleanFailure: either success or an SSLError InvalidArgument.
void ExpectCleanFailure(const absl::Status& s) {
  if (s.ok()) return;
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_EQ(GetErrorKind(s), ErrorKind::kSSLError) << s;
  EXPECT_EQ(ERR_peek_error(), 0u) << "error queue left behind";
}

TEST(Corruption, RandomTruncationsAndBitFlipsNeverCrash) {
  std::mt19937 rng(20240601);
  for (KeyType type : kAllKeyTypes) {
    const TestPki& pki = SharedTestPki(type);
    const std::vector<std::string> certs = {pki.ServerChainPem(), pki.server.CertDer(),
                                            CrlPem(pki.root, {&pki.server}),
                                            CrlDer(pki.root, {})};
    std::vector<std::string> keys = {pki.server.KeyPem(), pki.server.KeyDer(),
                                     pki.server.KeyPemEncrypted("pw"),
                                     pki.server.KeyDerEncrypted("pw")};
    if (HasTraditionalForm(type)) {
      keys.push_back(pki.server.KeyPemTraditional());
      keys.push_back(pki.server.KeyDerTraditional());
      keys.push_back(pki.server.KeyPemTraditionalEncrypted("pw"));
    }
    for (int i = 0; i < 60; ++i) {
      for (const std::string& c : certs) {
        std::string m = Mutate(c, rng);
        ExpectCleanFailure(ParseCertChain(m, "certfile").status());
        ExpectCleanFailure(ParseCaCertificates(m, "cadata").status());
        ExpectCleanFailure(ParseCrls(m, "crl").status());
      }
      for (const std::string& k : keys) {
        std::string m = Mutate(k, rng);
        IsEncryptedPrivateKey(m);
        ExpectCleanFailure(ParsePrivateKey(m, Password::Of("pw"), "keyfile").status());
      }
    }
    std::string p12 = Pkcs12(pki.server, {&pki.intermediate}, "pw");
    for (int i = 0; i < 15; ++i) {
      ExpectCleanFailure(ParsePkcs12(Mutate(p12, rng), Password::Of("pw"), "pkcs12").status());
    }
  }
}

}  // namespace
}  // namespace sslshim::shim
