#include "shim/match_hostname.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "shim/errors.h"
#include "shim/peercert.h"
#include "shim/peercert_test_util.h"
#include "testing/cert_builder.h"
#include "testing/status_matchers.h"

namespace sslshim::shim {
namespace {

using ::sslshim::shim::testing::kPythonTupleHelper;
using ::sslshim::shim::testing::RunPythonLines;
using ::sslshim::shim::testing::WriteTestFile;
using ::sslshim::testing::StatusIs;
using ::testing::HasSubstr;

PyValue S(std::string s) { return PyValue::Str(std::move(s)); }

// CertDict builds a getpeercert() dictionary: SAN entries as (kind, value)
// and commonName values, each in its own RDN.
PyValue CertDict(std::vector<std::pair<std::string, std::string>> san,
                 std::vector<std::string> common_names = {}) {
  std::vector<PyValue> rdns;
  rdns.push_back(PyValue::Tuple({PyValue::Tuple({S("organizationName"), S("Org")})}));
  for (std::string& cn : common_names) {
    rdns.push_back(PyValue::Tuple({PyValue::Tuple({S("commonName"), S(std::move(cn))})}));
  }
  PyValue d = PyValue::Dict({{"subject", PyValue::Tuple(std::move(rdns))}});
  if (!san.empty()) {
    std::vector<PyValue> entries;
    for (auto& [kind, value] : san) {
      entries.push_back(PyValue::Tuple({S(std::move(kind)), S(std::move(value))}));
    }
    d.Set("subjectAltName", PyValue::Tuple(std::move(entries)));
  }
  return d;
}

PyValue Dns(std::vector<std::string> names) {
  std::vector<std::pair<std::string, std::string>> san;
  for (std::string& n : names) san.emplace_back("DNS", std::move(n));
  return CertDict(std::move(san));
}

struct Case {
  std::string name;
  PyValue cert;
  std::string hostname;
  bool ok;
};

std::vector<Case> Cases() {
  const std::string nul("a.example\0.evil.example", 23);
  return {
      {"exact", Dns({"a.example"}), "a.example", true},
      {"case_insensitive", Dns({"A.Example"}), "a.EXAMPLE", true},
      {"mismatch", Dns({"a.example"}), "b.example", false},
      {"second_san", Dns({"a.example", "b.example"}), "b.example", true},
      {"mismatch_many", Dns({"a.example", "b.example"}), "c.example", false},
      {"wildcard", Dns({"*.a.example"}), "www.a.example", true},
      {"wildcard_upper", Dns({"*.A.EXAMPLE"}), "WWW.a.example", true},
      {"wildcard_one_label_only", Dns({"*.a.example"}), "x.www.a.example", false},
      {"wildcard_not_bare_domain", Dns({"*.a.example"}), "a.example", false},
      {"wildcard_empty_label", Dns({"*.a.example"}), ".a.example", false},
      {"wildcard_tld", Dns({"*.com"}), "example.com", true},
      {"wildcard_sole", Dns({"*"}), "example", false},
      {"wildcard_partial_suffix", Dns({"f*.com"}), "foo.com", false},
      {"wildcard_partial_prefix", Dns({"*oo.com"}), "foo.com", false},
      {"wildcard_xn_partial", Dns({"xn--*.example"}), "xn--abc.example", false},
      {"wildcard_over_xn_label", Dns({"*.example"}), "xn--bcher-kva.example", true},
      {"wildcard_not_leftmost", Dns({"a.*.example"}), "a.b.example", false},
      {"wildcard_two", Dns({"*.*.example"}), "a.b.example", false},
      {"wildcard_error_before_match", Dns({"f*.example", "a.example"}), "a.example",
       false},
      {"match_before_wildcard_error", Dns({"a.example", "f*.example"}), "a.example",
       true},
      {"xn_exact", Dns({"xn--bcher-kva.example"}), "XN--BCHER-KVA.example", true},
      {"trailing_dot_host", Dns({"a.example"}), "a.example.", false},
      {"trailing_dot_both", Dns({"a.example."}), "a.example.", true},
      {"nul_in_host", Dns({"a.example"}), nul, false},
      {"nul_in_san", Dns({nul}), "a.example", false},
      {"nul_identical", Dns({nul}), nul, true},
      {"empty_dns_value", Dns({""}), "", false},
      {"ipv4", CertDict({{"IP Address", "10.0.0.1"}}), "10.0.0.1", true},
      {"ipv4_mismatch", CertDict({{"IP Address", "10.0.0.1"}}), "10.0.0.2", false},
      {"ipv4_not_against_dns", Dns({"10.0.0.1"}), "10.0.0.1", false},
      {"ipv4_short_form_is_dns", Dns({"127.1"}), "127.1", true},
      {"ipv4_short_form_not_ip", CertDict({{"IP Address", "127.0.0.1"}}), "127.1", false},
      {"ipv4_leading_zero", CertDict({{"IP Address", "10.0.0.1"}}), "010.0.0.1", false},
      {"ipv6_loopback", CertDict({{"IP Address", "0:0:0:0:0:0:0:1"}}), "::1", true},
      {"ipv6_long_host", CertDict({{"IP Address", "0:0:0:0:0:0:0:1"}}), "0:0:0:0:0:0:0:1",
       true},
      {"ipv6_compressed_cert", CertDict({{"IP Address", "::1"}}), "0:0::0:1", true},
      {"ipv6_case", CertDict({{"IP Address", "2001:DB8:0:0:0:0:A:B"}}), "2001:db8::a:b",
       true},
      {"ipv6_trailing_newline", CertDict({{"IP Address", "2001:DB8:0:0:0:0:A:B\n"}}),
       "2001:db8::a:b", true},
      {"ipv6_mismatch", CertDict({{"IP Address", "::1"}}), "::2", false},
      {"ipv4_mapped", CertDict({{"IP Address", "0:0:0:0:0:FFFF:C000:201"}}),
       "::ffff:192.0.2.1", true},
      {"ipv4_vs_mapped", CertDict({{"IP Address", "192.0.2.1"}}), "::ffff:192.0.2.1",
       false},
      {"ip_san_blocks_cn", CertDict({{"IP Address", "10.0.0.1"}}, {"a.example"}),
       "a.example", false},
      {"invalid_ip_san", CertDict({{"IP Address", "<invalid>"}}), "10.0.0.1", false},
      {"invalid_ip_san_dns_host", CertDict({{"IP Address", "<invalid>"}}), "a.example",
       false},
      {"cn_fallback", CertDict({}, {"a.example"}), "a.example", true},
      {"cn_fallback_wildcard", CertDict({}, {"*.a.example"}), "b.a.example", true},
      {"cn_fallback_many", CertDict({}, {"a.example", "b.example"}), "b.example", true},
      {"cn_fallback_mismatch", CertDict({}, {"a.example", "b.example"}), "c.example",
       false},
      {"cn_ignored_with_dns_san", CertDict({{"DNS", "b.example"}}, {"a.example"}),
       "a.example", false},
      {"cn_used_with_other_sans",
       CertDict({{"email", "a@a.example"}, {"URI", "https://a.example/"}}, {"a.example"}),
       "a.example", true},
      {"cn_ip_text", CertDict({}, {"10.0.0.1"}), "10.0.0.1", true},
      {"no_names", CertDict({}), "a.example", false},
      {"quotes_in_names", Dns({"it's.example", "say\"hi\".example"}), "x'y", false},
      {"unicode_host", Dns({"b\xc3\xbc\x63her.example"}), "b\xc3\xbc\x63her.example",
       true},
  };
}

std::string Outcome(const absl::Status& s) {
  if (s.ok()) return "OK";
  const char* kind =
      GetErrorKind(s) == ErrorKind::kCertificateError ? "CertificateError" : "ValueError";
  return absl::StrCat(kind, ": ", s.message());
}

TEST(MatchHostnameTest, TableOfCases) {
  for (const Case& c : Cases()) {
    absl::Status s = match_hostname(c.cert, c.hostname);
    EXPECT_EQ(s.ok(), c.ok) << c.name << ": " << s;
    if (!s.ok() && !absl::StrContains(c.name, "invalid_ip_san")) {
      EXPECT_EQ(GetErrorKind(s), ErrorKind::kCertificateError) << c.name;
      EXPECT_EQ(s.code(), absl::StatusCode::kUnauthenticated) << c.name;
    }
  }
}

TEST(MatchHostnameTest, MessagesAreCPythons) {
  EXPECT_THAT(match_hostname(Dns({"a.example"}), "b.example"),
              StatusIs(absl::StatusCode::kUnauthenticated,
                       "hostname 'b.example' doesn't match 'a.example'"));
  EXPECT_THAT(match_hostname(Dns({"a.example", "it's"}), "x"),
              StatusIs(absl::StatusCode::kUnauthenticated,
                       "hostname 'x' doesn't match either of 'a.example', \"it's\""));
  EXPECT_THAT(match_hostname(CertDict({}), "x"),
              StatusIs(absl::StatusCode::kUnauthenticated,
                       "no appropriate commonName or subjectAltName fields were found"));
  EXPECT_THAT(match_hostname(Dns({"f*.com"}), "foo.com"),
              StatusIs(absl::StatusCode::kUnauthenticated,
                       "partial wildcards in leftmost label are not supported: "
                       "'f*.com'."));
  EXPECT_THAT(match_hostname(PyValue::Dict({}), "x"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("empty or no")));
  EXPECT_THAT(match_hostname(PyValue(), "x"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("CERT_REQUIRED")));
  EXPECT_THAT(match_hostname(CertDict({{"IP Address", "<invalid>"}}), "::1"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "'<invalid>' is neither an IPv4 nor an IP6 address."));
}

TEST(MatchHostnameTest, WorksOnDecodedCertificates) {
  sslshim::testing::TestPki pki =
      sslshim::testing::TestPki::Make(sslshim::testing::KeyType::kP256);
  PyValue server = DecodeCertificate(pki.server.cert.get());
  EXPECT_OK(match_hostname(server, "localhost"));
  EXPECT_OK(match_hostname(server, "SERVER.test"));
  EXPECT_OK(match_hostname(server, "127.0.0.1"));
  EXPECT_OK(match_hostname(server, "::1"));
  EXPECT_OK(match_hostname(server, "0:0:0:0:0:0:0:1"));
  EXPECT_THAT(match_hostname(server, "127.0.0.2"),
              StatusIs(absl::StatusCode::kUnauthenticated,
                       "hostname '127.0.0.2' doesn't match either of 'localhost', "
                       "'server.test', '127.0.0.1', '0:0:0:0:0:0:0:1'"));
  PyValue root = DecodeCertificate(pki.root.cert.get());
  EXPECT_OK(match_hostname(root, "sslshim test root ca"));
}

// Runs every case through CPython's own ssl.match_hostname and compares the
// outcome and the message.
TEST(MatchHostnameTest, AgreesWithCPython) {
  std::vector<Case> cases = Cases();
  std::vector<PyValue> batch;
  for (const Case& c : cases) batch.push_back(PyValue::Tuple({c.cert, S(c.hostname)}));
  const std::string path =
      WriteTestFile("match_cases.json", PyValue::Tuple(std::move(batch)).ToJson());
  ASSERT_OK_AND_ASSIGN(
      std::vector<std::string> lines,
      RunPythonLines("import json, ssl, sys, warnings\n"
                     "warnings.simplefilter('ignore')\n" +
                         std::string(kPythonTupleHelper) +
                         "for cert, host in json.load(open(sys.argv[1], 'rb')):\n"
                         "  try:\n"
                         "    ssl.match_hostname(tup(cert), host)\n"
                         "    r = 'OK'\n"
                         "  except ssl.CertificateError as e:\n"
                         "    r = 'CertificateError: ' + e.args[0]\n"
                         "  except ValueError as e:\n"
                         "    r = 'ValueError: ' + e.args[0]\n"
                         "  print(repr(r))\n",
                     {path}));
  ASSERT_EQ(lines.size(), cases.size());
  for (size_t i = 0; i < cases.size(); ++i) {
    std::string ours =
        S(Outcome(match_hostname(cases[i].cert, cases[i].hostname))).ToPythonRepr();
    EXPECT_EQ(ours, lines[i]) << cases[i].name;
  }
}

}  // namespace
}  // namespace sslshim::shim
