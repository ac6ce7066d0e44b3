// `sslshim verify`, `peercert` and `match-hostname` through the real binary:
// verdicts with X509 verify codes, getpeercert() as JSON and Python repr
// (compared with CPython's own decoder), match_hostname's exit codes and
// CPython's messages, and the same from store references.

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "runtime/cli/cli_test_util.h"

namespace sslshim::runtime::cli {
namespace {

using ::testing::HasSubstr;

class CertCommandsTest : public ::testing::Test {
 protected:
  void SetUp() override { files_ = WriteTestPki(); }
  CliFiles files_;
};

TEST_F(CertCommandsTest, VerifyVerdicts) {
  interop::SubprocessResult r =
      RunSslshim({"verify", "--ca-bundle", files_.ca, "--chain", files_.server_chain,
                  "--hostname", "localhost"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  nlohmann::json j = OutputJson(r);
  EXPECT_EQ(j["ok"], true);
  EXPECT_EQ(j["verify_code"], 0);
  EXPECT_EQ(j["chain"].size(), 3u) << j;

  r = RunSslshim(
      {"verify", "--ca-bundle", files_.other_ca, "--chain", files_.server_chain});
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_EQ(OutputJson(r)["verify_code"], 20);
  EXPECT_THAT(r.err, HasSubstr("verify code 20"));

  r = RunSslshim({"verify", "--ca-bundle", files_.ca, "--chain", files_.server_chain,
                  "--hostname", "other.example"});
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_EQ(OutputJson(r)["verify_code"], 62);

  r = RunSslshim({"verify", "--ca-bundle", files_.ca, "--chain", files_.server_chain,
                  "--ip", "10.0.0.1"});
  EXPECT_EQ(OutputJson(r)["verify_code"], 64) << Describe(r);

  // A client certificate is not valid for the server purpose.
  r = RunSslshim({"verify", "--ca-bundle", files_.ca, "--chain", files_.client_chain,
                  "--purpose", "client"});
  EXPECT_EQ(r.exit_code, 0) << Describe(r);

  // Far in the future every certificate has expired (X509_V_ERR_CERT_HAS_EXPIRED).
  r = RunSslshim({"verify", "--ca-bundle", files_.ca, "--chain", files_.server_chain,
                  "--at", "4102444800"});
  EXPECT_EQ(OutputJson(r)["verify_code"], 10) << Describe(r);

  WriteFile(files_.dir + "/empty.pem", "not a certificate\n");
  r = RunSslshim(
      {"verify", "--ca-bundle", files_.ca, "--chain", files_.dir + "/empty.pem"});
  EXPECT_EQ(r.exit_code, 3) << Describe(r);
}

TEST_F(CertCommandsTest, PeercertMatchesCpython) {
  WriteFile(files_.dir + "/with_text.pem",
            "Subject: junk before\n" + std::string("comment\n"));
  interop::SubprocessResult repr =
      RunSslshim({"peercert", "--repr", files_.server_chain});
  ASSERT_EQ(repr.exit_code, 0) << Describe(repr);
  const std::string script = absl::StrCat(
      "import ssl, sys\n"
      "print(repr(ssl._ssl._test_decode_cert('",
      files_.server_chain, "')))\n");
  absl::StatusOr<interop::SubprocessResult> py =
      interop::Subprocess::Run({"/usr/bin/python3", "-c", script}, "", absl::Seconds(15));
  ASSERT_TRUE(py.ok());
  EXPECT_EQ(repr.out, py->out);

  interop::SubprocessResult json = RunSslshim({"peercert", files_.server_chain});
  ASSERT_EQ(json.exit_code, 0) << Describe(json);
  nlohmann::json j = OutputJson(json);
  EXPECT_EQ(j["subject"][0][0][1], "localhost");

  interop::SubprocessResult none =
      RunSslshim({"peercert", files_.dir + "/with_text.pem"});
  EXPECT_EQ(none.exit_code, 3) << Describe(none);
  EXPECT_THAT(none.err, HasSubstr("no certificate"));
}

TEST_F(CertCommandsTest, MatchHostnameExitCodesAndMessages) {
  interop::SubprocessResult pc = RunSslshim({"peercert", files_.server_chain});
  ASSERT_EQ(pc.exit_code, 0);
  const std::string json_path = files_.dir + "/cert.json";
  WriteFile(json_path, pc.out);

  interop::SubprocessResult r = RunSslshim(
      {"match-hostname", "--cert-json", json_path, "--hostname", "server.test"});
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  r = RunSslshim({"match-hostname", "--cert-json", json_path, "--hostname", "evil.test"});
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("CertificateError: hostname 'evil.test' doesn't match "
                               "either of 'localhost', 'server.test', '127.0.0.1', "
                               "'0:0:0:0:0:0:0:1'"));
  r = RunSslshim(
      {"match-hostname", "--cert-pem", files_.server_chain, "--hostname", "127.0.0.1"});
  EXPECT_EQ(r.exit_code, 0) << Describe(r);

  // CPython's ValueError for an empty dictionary: exit 3.
  WriteFile(files_.dir + "/empty.json", "{}");
  r = RunSslshim(
      {"match-hostname", "--cert-json", files_.dir + "/empty.json", "--hostname", "a"});
  EXPECT_EQ(r.exit_code, 3) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("ValueError: empty or no certificate"));
  WriteFile(files_.dir + "/bad.json", "{not json");
  r = RunSslshim(
      {"match-hostname", "--cert-json", files_.dir + "/bad.json", "--hostname", "a"});
  EXPECT_EQ(r.exit_code, 3) << Describe(r);
}

TEST_F(CertCommandsTest, StoreReferencesWorkLikeFiles) {
  ChildEnv env = {{"SSLSHIM_KEK", std::string(64, 'a')},
                  {"SSLSHIM_STORE", "lmdb:" + TempDir()}};
  interop::SubprocessResult imp =
      RunSslshim({"store", "import", "Web/api", "--cert", files_.server_chain, "--key",
                  files_.server_key, "--ca", files_.ca},
                 env);
  ASSERT_EQ(imp.exit_code, 0) << Describe(imp);
  interop::SubprocessResult r =
      RunSslshim({"verify", "--ca-bundle", "store:Web/api#ca", "--chain", "store:Web/api",
                  "--hostname", "localhost"},
                 env);
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  r = RunSslshim(
      {"match-hostname", "--cert-pem", "store:Web/api", "--hostname", "server.test"},
      env);
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  r = RunSslshim({"peercert", "store:Web/api#nosuchfield"}, env);
  EXPECT_EQ(r.exit_code, 2) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("nosuchfield"));
  // --store overrides SSLSHIM_STORE.
  r = RunSslshim({"peercert", "--store", "lmdb:" + TempDir(), "store:Web/api"}, env);
  EXPECT_EQ(r.exit_code, 2) << Describe(r);
}

// `--app store:PATH#field` reads app.yaml from the store (regression: it was
// documented but read as a file named "store:...").
TEST_F(CertCommandsTest, AppConfigFromTheStore) {
  ChildEnv env = {{"SSLSHIM_KEK", std::string(64, 'a')},
                  {"SSLSHIM_STORE", "lmdb:" + TempDir()}};
  WriteFile(files_.dir + "/app.yaml",
            "libraries:\n- name: ssl\n  version: latest\n");
  WriteFile(files_.dir + "/nossl.yaml", "libraries: [\n");  // Malformed.
  interop::SubprocessResult imp = RunSslshim(
      {"store", "import", "App/1", "--cert", files_.server_chain, "--key",
       files_.server_key, "--field", "app=" + files_.dir + "/app.yaml", "--field",
       "nossl=" + files_.dir + "/nossl.yaml"},
      env);
  ASSERT_EQ(imp.exit_code, 0) << Describe(imp);
  interop::SubprocessResult r = RunSslshim(
      {"verify", "--app", "store:App/1#app", "--ca-bundle", files_.ca, "--chain",
       "store:App/1", "--hostname", "localhost"},
      env);
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  r = RunSslshim({"verify", "--app", "store:App/1#nossl", "--ca-bundle", files_.ca,
                  "--chain", files_.server_chain},
                 env);
  EXPECT_NE(r.exit_code, 0) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("malformed YAML")) << Describe(r);
  r = RunSslshim({"verify", "--app", "store:App/1#nosuchfield", "--ca-bundle",
                  files_.ca, "--chain", files_.server_chain},
                 env);
  EXPECT_EQ(r.exit_code, 2) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("nosuchfield"));
}

}  // namespace
}  // namespace sslshim::runtime::cli
