#include "shim/peercert.h"

#include <ctime>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "openssl/bio.h"
#include "openssl/err.h"
#include "openssl/pem.h"
#include "openssl/x509v3.h"
#include "shim/peercert_test_util.h"
#include "testing/cert_builder.h"
#include "testing/status_matchers.h"

namespace sslshim::shim {
namespace {

using ::sslshim::shim::testing::RunCommand;
using ::sslshim::shim::testing::RunPython;
using ::sslshim::shim::testing::RunPythonLines;
using ::sslshim::shim::testing::WriteTestFile;
using ::sslshim::testing::CertSpec;
using ::sslshim::testing::Issue;
using ::sslshim::testing::Issued;
using ::sslshim::testing::KeyType;
using ::sslshim::testing::NameEntry;
using ::sslshim::testing::RawGeneralName;
using ::sslshim::testing::TestPki;

// A named certificate in PEM form.
struct CertCase {
  std::string name;
  std::string pem;
};

bssl::UniquePtr<X509> ParsePem(const std::string& pem) {
  bssl::UniquePtr<BIO> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  return bssl::UniquePtr<X509>(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
}

// SecondsFromNow returns the offset from now to the UTC time given.
int64_t SecondsFromNow(int year, int month, int day, int hour = 0) {
  std::tm tm = {};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  return static_cast<int64_t>(timegm(&tm)) - static_cast<int64_t>(std::time(nullptr));
}

std::string Utf16Be(const std::u16string& s) {
  std::string out;
  for (char16_t c : s) {
    out.push_back(static_cast<char>(c >> 8));
    out.push_back(static_cast<char>(c & 0xff));
  }
  return out;
}

std::string Ip6(std::initializer_list<int> bytes) {
  std::string out;
  for (int b : bytes) out.push_back(static_cast<char>(b));
  return out;
}

// BuilderCases are certificates made with //testing:cert_builder.
std::vector<CertCase> BuilderCases() {
  std::vector<CertCase> cases;
  const auto add = [&](std::string name, const CertSpec& spec,
                       KeyType type = KeyType::kP256, const Issued* issuer = nullptr) {
    cases.push_back({std::move(name), Issue(spec, type, issuer).CertPem()});
  };
  TestPki pki = TestPki::Make(KeyType::kP256);
  cases.push_back({"pki_root", pki.root.CertPem()});
  cases.push_back({"pki_intermediate", pki.intermediate.CertPem()});
  cases.push_back({"pki_server", pki.server.CertPem()});
  cases.push_back({"pki_client", pki.client.CertPem()});
  add("rsa_many_dns",
      {.common_name = "www.example.com",
       .subject = {{"O", "Example, Inc."}, {"C", "US"}, {"ST", "CA"}, {"L", "SF"}},
       .dns_names = {"www.example.com", "*.example.com", "xn--nxasmq6b.example",
                     "a.b.c.d.example", "EXAMPLE.ORG."}},
      KeyType::kRsa2048, &pki.intermediate);
  add("unicode_subject",
      {.common_name =
           "\xc3\x9cn\xc3\xaf\x63\xc3\xb8\x64\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac "
           "\xf0\x9f\x98\x80",
       .subject = {{"O", "Soci\xc3\xa9t\xc3\xa9 it's \"quoted\""},
                   {"OU", "back\\slash\ttab"}},
       .dns_names = {"xn--bcher-kva.example"}},
      KeyType::kEd25519);
  add("serial_20_bytes", {.serial_hex = "7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF"});
  add("serial_small", {.serial_hex = "1"});
  add("serial_zero", {.serial_hex = "0"});
  add("serial_odd_digits", {.serial_hex = "ABC"});
  add("serial_negative", {.serial_hex = "-1234"});
  add("serial_40_bytes", {.serial_hex = std::string(80, '5')});
  add("nul_bytes",
      {.common_name = std::string("evil.example\0.good.example", 26),
       .raw_sans = {{.type = GEN_DNS, .value = std::string("a.example\0b.example", 19)},
                    {.type = GEN_EMAIL, .value = std::string("me@x\0y", 6)},
                    {.type = GEN_URI, .value = std::string("https://x\0/", 11)}}});
  add("no_san", {.common_name = "nosan.example", .subject = {{"O", "NoSan"}}});
  add("empty_subject", {.common_name = "", .dns_names = {"empty.example"}});
  add("multi_valued_rdn",
      {.common_name = "multi",
       .subject_entries = {{.oid = "O", .value = "Org", .same_rdn = true},
                           {.oid = "OU", .value = "Unit A"},
                           {.oid = "OU", .value = "Unit B", .same_rdn = true},
                           {.oid = "OU", .value = "Unit C", .same_rdn = true},
                           {.oid = "C", .value = "DE"}}});
  add("string_types_and_oids",
      {.common_name = "types",
       .subject_entries = {
           {.oid = "O",
            .value = Utf16Be(u"BMP \u00e9\u4e2d"),
            .asn1_type = V_ASN1_BMPSTRING},
           {.oid = "OU", .value = "T61 caf\xe9", .asn1_type = V_ASN1_T61STRING},
           {.oid = "C", .value = "US", .asn1_type = V_ASN1_PRINTABLESTRING},
           {.oid = "emailAddress", .value = "a@b.example", .asn1_type = V_ASN1_IA5STRING},
           {.oid = "1.2.3.4.5.6.7", .value = "unknown oid"},
           {.oid = "2.5.4.97", .value = "VATDE-123"},
           {.oid = "1.3.6.1.4.1.311.60.2.1.3", .value = "DE"},
           {.oid = "2.5.4.15", .value = "Private Organization"},
           {.oid = "0.9.2342.19200300.100.1.25", .value = "example"},
           {.oid = "2.5.4.5", .value = "serial-attr"},
           {.oid = "2.5.4.42", .value = "Given"},
           {.oid = "2.5.4.4", .value = "Surname"},
           {.oid = "2.5.4.65", .value = "Pseudo"},
           {.oid = "1.2.840.113549.1.9.2",
            .value = "unstructured",
            .asn1_type = V_ASN1_IA5STRING}}});
  add("registered_ids", {.raw_sans = {{.type = GEN_RID, .oid = "1.2.3.4.5"},
                                      {.type = GEN_RID, .oid = "1.3.6.1.4.1.311.20.2.3"},
                                      {.type = GEN_RID, .oid = "1.3.6.1.4.1.311.20.2.2"},
                                      {.type = GEN_RID, .oid = "2.5.4.3"},
                                      {.type = GEN_RID, .oid = "1.3.6.1.5.5.7.8.9"},
                                      {.type = GEN_RID, .oid = "2.999.1234567890123"}}});
  add("othernames",
      {.dns_names = {"on.example"},
       .raw_sans = {
           {.type = GEN_OTHERNAME,
            .value = "upn@example",
            .oid = "1.3.6.1.4.1.311.20.2.3"},
           {.type = GEN_OTHERNAME,
            .value = "ia5upn",
            .oid = "1.3.6.1.4.1.311.20.2.3",
            .value_type = V_ASN1_IA5STRING},
           {.type = GEN_OTHERNAME,
            .value = "_imap.example",
            .oid = "1.3.6.1.5.5.7.8.7",
            .value_type = V_ASN1_IA5STRING},
           {.type = GEN_OTHERNAME,
            .value = std::string("xmpp\0cut", 8),
            .oid = "1.3.6.1.5.5.7.8.5"},
           {.type = GEN_OTHERNAME,
            .value = "m\xc3\xbcller@example",
            .oid = "1.3.6.1.5.5.7.8.9"},
           {.type = GEN_OTHERNAME,
            .value = "realm\nsecond line",
            .oid = "1.3.6.1.5.5.7.8.8"},
           {.type = GEN_OTHERNAME, .value = "colon:in:value", .oid = "1.3.6.1.5.5.7.8.8"},
           {.type = GEN_OTHERNAME, .value = "x", .oid = "1.2.3.4"}}});
  add("dirname",
      {.raw_sans = {{.type = GEN_DIRNAME,
                     .dir_name = {{.oid = "C", .value = "US"},
                                  {.oid = "O", .value = "Dir Org"},
                                  {.oid = "CN", .value = "dir a"},
                                  {.oid = "OU", .value = "dir b", .same_rdn = true}}},
                    {.type = GEN_DIRNAME, .dir_name = {}},
                    {.type = GEN_DNS, .value = "after.dirname.example"}}});
  add("ip_addresses",
      {.ip_addresses = {"10.1.2.3", "255.255.255.255", "::", "::1", "2001:db8::a:b",
                        "fe80::1:2:3:4", "::ffff:192.0.2.1", "2001:db8:0:0:1:0:0:1"},
       .raw_sans = {{.type = GEN_IPADD, .value = Ip6({1, 2, 3, 4, 5})},
                    {.type = GEN_IPADD, .value = ""},
                    {.type = GEN_IPADD,
                     .value = Ip6({0xab, 0xcd, 0, 0x0f, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                   0xff, 0xff})}}});
  add("aia_and_crl",
      {.common_name = "aia",
       .ocsp_uris = {"http://ocsp.example/", "http://ocsp2.example/"},
       .ca_issuer_uris = {"http://ca.example/ca.crt"},
       .crl_uris = {"http://crl.example/a.crl", "ldap://crl.example/cn=x"}},
      KeyType::kP384, &pki.root);
  add("only_ocsp", {.ocsp_uris = {"http://only-ocsp.example/"}});
  add("expired", {.common_name = "expired.example",
                  .not_before_offset = SecondsFromNow(2001, 2, 3, 4),
                  .not_after_offset = SecondsFromNow(2002, 6, 1)});
  add("generalized_time", {.common_name = "far.example",
                           .not_before_offset = SecondsFromNow(2025, 6, 1),
                           .not_after_offset = SecondsFromNow(2051, 12, 31, 23)});
  add("version1",
      {.common_name = "v1.example",
       .subject = {{"O", "Old"}},
       .dns_names = {"ignored.example"},
       .version1 = true},
      KeyType::kRsa2048);
  add("mixed_san_kinds",
      {.dns_names = {"mix.example"},
       .ip_addresses = {"192.0.2.7", "2001:db8::7"},
       .emails = {"ops@mix.example"},
       .uris = {"spiffe://mix.example/svc"},
       .raw_sans = {{.type = GEN_RID, .oid = "1.2.840.113549.1.9.1"}}});
  return cases;
}

// OpensslCases are certificates made with the system `openssl` CLI (OpenSSL
// 3), for encodings the builder does not make: X400Name and EdiPartyName
// SANs, an empty SAN list, config-file othernames, multi-valued -subj.
std::vector<CertCase> OpensslCases() {
  const std::string config = WriteTestFile("openssl.cnf", R"(
[req]
distinguished_name = dn
prompt = no
[dn]
CN = cli.example
[config_sans]
subjectAltName = @alt
authorityInfoAccess = OCSP;URI:http://o.example,caIssuers;URI:http://ca.example/x.crt
crlDistributionPoints = URI:http://crl.example/a.crl
[alt]
otherName.1 = 1.3.6.1.4.1.311.20.2.3;UTF8:upn@example.com
otherName.2 = 1.3.6.1.5.5.7.8.7;UTF8:srv-wrong-type
RID.1 = 1.2.3.4.5
IP.1 = 2001:db8::a:b
dirName.1 = dirsec
DNS.1 = a.example
email.1 = e@example
[dirsec]
C = US
O = Org
1.CN = one
2.CN = two
[x400_edi]
# SEQUENCE { [3] { SEQUENCE {} }, [5] { [1] { UTF8String "test" } }, DNS }
subjectAltName = DER:3017A3023000A506A1040C0274658209782E6578616D706C65
[empty_san]
subjectAltName = DER:3000
[crl_relative]
# DistributionPoint with nameRelativeToCRLIssuer, then one with a full name.
crlDistributionPoints = DER:302F3012A010A10E300C06035504030C0563726C2D613019A017A0158613687474703A2F2F63726C2E6578616D706C652F
)");
  std::vector<CertCase> cases;
  const auto make = [&](const std::string& name, const std::string& args) {
    const std::string dir = WriteTestFile(name + ".stamp", "");
    const std::string out = dir.substr(0, dir.size() - 6) + ".cli.pem";
    absl::StatusOr<std::string> r = RunCommand(absl::StrCat(
        "openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
        "-keyout /dev/null -days 30 -config ",
        config, " -out ", out, " ", args));
    EXPECT_TRUE(r.ok()) << name << ": " << r.status();
    absl::StatusOr<std::string> pem = RunCommand("cat " + out);
    if (pem.ok()) cases.push_back({name, *pem});
  };
  make("cli_config_sans", "-extensions config_sans");
  make("cli_x400_ediparty", "-extensions x400_edi");
  make("cli_empty_san", "-extensions empty_san");
  make("cli_crl_relative_name", "-extensions crl_relative");
  make("cli_multivalue_subj",
       "-multivalue-rdn -subj '/CN=a+O=b+OU=c/OU=d/DC=example/DC=com' "
       "-extensions config_sans -set_serial 0x00ff");
  return cases;
}

// CPythonReprs decodes each file with CPython's ssl._ssl._test_decode_cert
// and returns one repr line per file (or "ERROR ..." when CPython raises).
std::vector<std::string> CPythonReprs(const std::vector<std::string>& paths) {
  absl::StatusOr<std::vector<std::string>> lines = RunPythonLines(
      "import ssl, sys\n"
      "for path in sys.argv[1:]:\n"
      "  try:\n"
      "    print(repr(ssl._ssl._test_decode_cert(path)))\n"
      "  except Exception as e:\n"
      "    print('ERROR', type(e).__name__, e)\n",
      paths);
  EXPECT_TRUE(lines.ok()) << lines.status();
  return lines.ok() ? *lines : std::vector<std::string>();
}

TEST(PeerCertTest, MatchesCPythonOnGeneratedCertificates) {
  std::vector<CertCase> cases = BuilderCases();
  for (CertCase& c : OpensslCases()) cases.push_back(std::move(c));
  ASSERT_GE(cases.size(), 20u);
  std::vector<std::string> paths;
  for (const CertCase& c : cases) paths.push_back(WriteTestFile(c.name + ".pem", c.pem));
  std::vector<std::string> expected = CPythonReprs(paths);
  ASSERT_EQ(expected.size(), cases.size());
  int compared = 0;
  for (size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE(cases[i].name);
    bssl::UniquePtr<X509> cert = ParsePem(cases[i].pem);
    ASSERT_NE(cert, nullptr) << "BoringSSL cannot parse " << cases[i].name;
    EXPECT_EQ(DecodeCertificate(cert.get()).ToPythonRepr(), expected[i]);
    ++compared;
  }
  RecordProperty("certificates_compared", compared);
  std::printf("compared %d certificates with CPython\n", compared);
}

TEST(PeerCertTest, JsonOfEveryCaseParses) {
  std::vector<std::string> paths;
  for (const CertCase& c : BuilderCases()) {
    bssl::UniquePtr<X509> cert = ParsePem(c.pem);
    ASSERT_NE(cert, nullptr);
    paths.push_back(
        WriteTestFile(c.name + ".json", DecodeCertificate(cert.get()).ToJson()));
  }
  ASSERT_OK_AND_ASSIGN(std::string out,
                       RunPython("import json, sys\n"
                                 "for p in sys.argv[1:]: json.load(open(p, 'rb'))\n"
                                 "print(len(sys.argv) - 1)\n",
                                 paths));
  EXPECT_EQ(out, absl::StrCat(paths.size(), "\n"));
}

TEST(PeerCertTest, ShapeOfAServerCertificate) {
  Issued leaf = Issue({.common_name = "a.example",
                       .dns_names = {"a.example"},
                       .ip_addresses = {"::1"},
                       .not_before_offset = SecondsFromNow(2025, 6, 1),
                       .not_after_offset = SecondsFromNow(2025, 12, 25, 13),
                       .serial_hex = "0A1B"},
                      KeyType::kP256, nullptr);
  PyValue d = DecodeCertificate(leaf.cert.get());
  EXPECT_EQ(d.ToPythonRepr(),
            "{'subject': ((('commonName', 'a.example'),),), "
            "'issuer': ((('commonName', 'a.example'),),), 'version': 3, "
            "'serialNumber': '0A1B', 'notBefore': 'Jun  1 00:00:00 2025 GMT', "
            "'notAfter': 'Dec 25 13:00:00 2025 GMT', "
            "'subjectAltName': (('DNS', 'a.example'), "
            "('IP Address', '0:0:0:0:0:0:0:1'))}");
  ASSERT_NE(d.Get("subjectAltName"), nullptr);
  EXPECT_EQ(d.Get("subjectAltName")->items()[1].items()[1].str(), "0:0:0:0:0:0:0:1");
}

// Found by tests/fuzz/peercert_fuzzer: an extension whose value does not
// decode left BoringSSL's error queue non-empty after DecodeCertificate.
TEST(PeerCertTest, MalformedExtensionsLeaveNoErrorQueued) {
  Issued leaf = Issue({.common_name = "bad-ext"}, KeyType::kP256, nullptr);
  // A SEQUENCE header announcing far more bytes than follow.
  static constexpr uint8_t kBad[] = {0x30, 0x84, 0x7f, 0xff, 0xff, 0xff};
  for (int nid : {NID_subject_alt_name, NID_info_access, NID_crl_distribution_points}) {
    bssl::UniquePtr<ASN1_OCTET_STRING> value(ASN1_OCTET_STRING_new());
    ASSERT_TRUE(ASN1_OCTET_STRING_set(value.get(), kBad, sizeof(kBad)));
    bssl::UniquePtr<X509_EXTENSION> ext(
        X509_EXTENSION_create_by_NID(nullptr, nid, 0, value.get()));
    ASSERT_NE(ext, nullptr);
    ASSERT_TRUE(X509_add_ext(leaf.cert.get(), ext.get(), -1));
  }
  ERR_clear_error();
  PyValue d = DecodeCertificate(leaf.cert.get());
  EXPECT_EQ(ERR_peek_error(), 0u);
  EXPECT_EQ(d.Get("subjectAltName"), nullptr);
  EXPECT_EQ(d.Get("OCSP"), nullptr);
  EXPECT_EQ(d.Get("crlDistributionPoints"), nullptr);
  EXPECT_EQ(SubjectCommonName(d), "bad-ext");
  // An error the caller had queued before the call is left alone.
  ERR_put_error(ERR_LIB_USER, 0, 1, __FILE__, __LINE__);
  DecodeCertificate(leaf.cert.get());
  EXPECT_EQ(ERR_GET_LIB(ERR_get_error()), ERR_LIB_USER);
  EXPECT_EQ(ERR_get_error(), 0u);
}

}  // namespace
}  // namespace sslshim::shim
