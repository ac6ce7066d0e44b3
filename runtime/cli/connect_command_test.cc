// `sslshim connect` through the real binary against `sslshim serve --echo`
// and `openssl s_server`: success JSON, the refusals with their error kind
// and X509 verify code (untrusted CA 20, wrong hostname 62), a closed port,
// explicit flags and the runtime defaults (SSL_CERT_FILE, PYTHONHTTPSVERIFY).

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "runtime/cli/cli_test_util.h"
#include "runtime/net.h"

namespace sslshim::runtime::cli {
namespace {

using ::testing::HasSubstr;

class ConnectTest : public ::testing::Test {
 protected:
  void SetUp() override {
    files_ = WriteTestPki();
    absl::StatusOr<ServeChild> s = StartServe(
        {"--echo", "--certfile", files_.server_chain, "--keyfile", files_.server_key});
    ASSERT_TRUE(s.ok()) << s.status();
    server_ = *std::move(s);
  }
  void TearDown() override {
    if (server_.process != nullptr) {
      EXPECT_EQ(Terminate(server_).exit_code, 0);
    }
  }

  interop::SubprocessResult Connect(std::vector<std::string> extra,
                                    const ChildEnv& env = {}) {
    std::vector<std::string> args = {"connect", "--port", absl::StrCat(server_.port)};
    args.insert(args.end(), extra.begin(), extra.end());
    return RunSslshim(args, env);
  }

  CliFiles files_;
  ServeChild server_;
};

TEST_F(ConnectTest, VerifiedHandshakePrintsOneJsonObject) {
  interop::SubprocessResult r =
      Connect({"--cafile", files_.ca, "--server-hostname", "localhost", "--send", "abc"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  std::vector<nlohmann::json> lines = JsonLines(r.out);
  ASSERT_EQ(lines.size(), 1u) << r.out;
  const nlohmann::json& j = lines[0];
  EXPECT_EQ(j["ok"], true);
  EXPECT_EQ(j["handshake"], "ok");
  EXPECT_EQ(j["received"], "abc");
  EXPECT_FALSE(j["cipher"].get<std::string>().empty());
  EXPECT_EQ(j["peercert"]["subject"][0][0][1], "localhost") << j;
  EXPECT_EQ(j["peercert_sha256"].get<std::string>().size(), 95u);
}

TEST_F(ConnectTest, IpAddressHostnameIsCheckedAgainstIpSans) {
  interop::SubprocessResult r = Connect({"--cafile", files_.ca});  // 127.0.0.1
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
}

TEST_F(ConnectTest, UntrustedCaIsVerifyCode20) {
  interop::SubprocessResult r =
      Connect({"--cafile", files_.other_ca, "--server-hostname", "localhost"});
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  nlohmann::json j = OutputJson(r);
  EXPECT_EQ(j["ok"], false);
  EXPECT_EQ(j["error_kind"], "SSLCertVerificationError");
  EXPECT_EQ(j["verify_code"], 20);
  EXPECT_THAT(r.err, HasSubstr("verify code 20"));
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

TEST_F(ConnectTest, WrongHostnameIsVerifyCode62) {
  interop::SubprocessResult r =
      Connect({"--cafile", files_.ca, "--server-hostname", "wrong.example"});
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  nlohmann::json j = OutputJson(r);
  EXPECT_EQ(j["error_kind"], "SSLCertVerificationError");
  EXPECT_EQ(j["verify_code"], 62);
  // --no-check-hostname verifies the chain only.
  r = Connect({"--cafile", files_.ca, "--server-hostname", "wrong.example",
               "--no-check-hostname"});
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
}

TEST_F(ConnectTest, CertNoneSkipsVerification) {
  interop::SubprocessResult r = Connect({"--cert-none", "--send", "z"});
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(OutputJson(r)["received"], "z");
}

TEST_F(ConnectTest, DefaultsFollowSslCertFileAndToggle) {
  // No --cafile: the default bundle is SSL_CERT_FILE.
  interop::SubprocessResult r = Connect({}, {{"SSL_CERT_FILE", files_.ca}});
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  r = Connect({}, {{"SSL_CERT_FILE", files_.other_ca}});
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_EQ(OutputJson(r)["verify_code"], 20);
  // PYTHONHTTPSVERIFY=0 turns default verification off, with the warning.
  r = Connect({}, {{"SSL_CERT_FILE", files_.other_ca}, {"PYTHONHTTPSVERIFY", "0"}});
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("PYTHONHTTPSVERIFY"));
  // An explicit --cafile wins over the toggle.
  r = Connect({"--cafile", files_.other_ca},
              {{"SSL_CERT_FILE", files_.ca}, {"PYTHONHTTPSVERIFY", "0"}});
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  // A bad toggle value is a configuration error.
  r = Connect({}, {{"PYTHONHTTPSVERIFY", "yes"}});
  EXPECT_EQ(r.exit_code, 3) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("PYTHONHTTPSVERIFY"));
}

TEST_F(ConnectTest, MissingDefaultBundleNamesThePath) {
  interop::SubprocessResult r = Connect({}, {{"SSL_CERT_FILE", "/nonexistent/ca.pem"}});
  EXPECT_EQ(r.exit_code, 2) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("/nonexistent/ca.pem"));
}

// A peer that echoes one byte at a time, each just inside --timeout, is cut
// off by one deadline for the whole read-back (regression: each read had its
// own timeout, so 12 bytes could take 12 timeouts).
TEST(ConnectHostileServerTest, DripFedEchoIsBoundedByOneTimeout) {
  const CliFiles files = WriteTestPki();
  absl::StatusOr<std::unique_ptr<HostileServer>> server = HostileServer::Start(
      files, [](shim::SSLSocket& s, const std::atomic<bool>& stop) -> absl::Status {
        for (char c : std::string("hello world!")) {
          if (stop) break;
          absl::SleepFor(absl::Milliseconds(400));
          absl::Status st = s.sendall(std::string(1, c));
          if (!st.ok()) return st;
        }
        return absl::OkStatus();
      });
  ASSERT_TRUE(server.ok()) << server.status();
  const absl::Time start = absl::Now();
  interop::SubprocessResult r =
      RunSslshim({"connect", "--port", std::to_string((*server)->port()), "--cafile",
                  files.ca, "--server-hostname", "localhost", "--timeout", "1",
                  "--send", "hello world!"});
  EXPECT_LT(absl::Now() - start, absl::Seconds(3)) << Describe(r);
  EXPECT_FALSE(r.timed_out);
}

TEST(ConnectClosedPortTest, RefusedIsExitOne) {
  absl::StatusOr<TcpListener> l = TcpListener::Listen("127.0.0.1", 0);
  ASSERT_TRUE(l.ok());
  const int port = l->port();
  *l = std::move(*TcpListener::Listen("127.0.0.1", 0));  // Frees `port`.
  interop::SubprocessResult r =
      RunSslshim({"connect", "--port", absl::StrCat(port), "--cert-none"});
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_EQ(OutputJson(r)["ok"], false);
  EXPECT_THAT(r.err, HasSubstr("refused"));
}

TEST(ConnectOpenSslTest, AgainstOpenSslServerWithClientCertificate) {
  CliFiles f = WriteTestPki();
  absl::StatusOr<TcpListener> probe = TcpListener::Listen("127.0.0.1", 0);
  ASSERT_TRUE(probe.ok());
  const int port = probe->port();
  *probe = std::move(*TcpListener::Listen("127.0.0.1", 0));
  absl::StatusOr<std::unique_ptr<interop::Subprocess>> server =
      interop::Subprocess::Start(
          {"/usr/bin/openssl", "s_server", "-accept", absl::StrCat("127.0.0.1:", port),
           "-cert", f.server_chain, "-cert_chain", f.server_chain, "-key", f.server_key,
           "-CAfile", f.ca, "-Verify", "2", "-verify_return_error", "-rev"},
          "", absl::Seconds(30), /*keep_stdin_open=*/true);
  ASSERT_TRUE(server.ok()) << server.status();
  ASSERT_TRUE((*server)->WaitForOutput("ACCEPT").ok()) << (*server)->err();
  interop::SubprocessResult r =
      RunSslshim({"connect", "--port", absl::StrCat(port), "--cafile", f.ca,
                  "--server-hostname", "localhost", "--certfile", f.client_chain,
                  "--keyfile", f.client_key, "--send", "olleh\n"});
  EXPECT_EQ(r.exit_code, 0) << Describe(r) << (*server)->out();
  // s_server -rev answers each line reversed.
  EXPECT_EQ(OutputJson(r)["received"], "hello\n") << r.out;
}

}  // namespace
}  // namespace sslshim::runtime::cli
