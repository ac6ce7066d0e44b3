// `sslshim fetch` through the real binary: against `sslshim serve --http`
// (status, headers, JSON body, -H/-d/-X, mutual TLS from store references)
// and a Python ssl + http.server with CERT_REQUIRED; verification failure
// (exit 1, verify code), -k, and the PYTHONHTTPSVERIFY toggle.

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "absl/time/clock.h"
#include "runtime/cli/cli_test_util.h"
#include "shim/ssl.h"

namespace sslshim::runtime::cli {
namespace {

using ::testing::HasSubstr;

constexpr char kKek[] =
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

class FetchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    files_ = WriteTestPki();
    absl::StatusOr<ServeChild> s =
        StartServe({"--http", "--certfile", files_.server_chain, "--keyfile",
                    files_.server_key, "--cafile", files_.ca, "--verify", "optional"});
    ASSERT_TRUE(s.ok()) << s.status();
    server_ = *std::move(s);
    url_ = absl::StrCat("https://localhost:", server_.port, "/items?x=1");
  }
  void TearDown() override {
    if (server_.process != nullptr) {
      EXPECT_EQ(Terminate(server_).exit_code, 0);
    }
  }

  CliFiles files_;
  ServeChild server_;
  std::string url_;
};

TEST_F(FetchTest, PostWithHeadersGetsJsonEcho) {
  interop::SubprocessResult r =
      RunSslshim({"fetch", "--cacert", files_.ca, "-H", "X-One: 1", "-H", "X-Two: a, b",
                  "-d", "{\"k\": 1}", "--body", url_});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  nlohmann::json j = OutputJson(r);
  EXPECT_EQ(j["status"], 200);
  EXPECT_EQ(j["tls_version"], "TLSv1.3");
  EXPECT_EQ(j["peercert"]["subject"][0][0][1], "localhost");
  nlohmann::json body = nlohmann::json::parse(j["body"].get<std::string>());
  EXPECT_EQ(j["body_length"], j["body"].get<std::string>().size());
  EXPECT_EQ(body["method"], "POST");
  EXPECT_EQ(body["target"], "/items?x=1");
  EXPECT_EQ(body["body"], "{\"k\": 1}");
  EXPECT_THAT(body["headers"].dump(), HasSubstr("[\"X-Two\",\"a, b\"]"));
  EXPECT_EQ(body["client"]["verified"], false);
}

TEST_F(FetchTest, MethodFlagAndNoBodyByDefault) {
  interop::SubprocessResult r =
      RunSslshim({"fetch", "--cacert", files_.ca, "-X", "DELETE", url_});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  nlohmann::json j = OutputJson(r);
  EXPECT_FALSE(j.contains("body"));
  EXPECT_GT(j["body_length"].get<int>(), 0);
}

TEST_F(FetchTest, ClientCertificateFromStore) {
  ChildEnv env = {{"SSLSHIM_KEK", kKek}, {"SSLSHIM_STORE", "lmdb:" + TempDir()}};
  interop::SubprocessResult imp =
      RunSslshim({"store", "import", "Employee/asalieri", "--cert", files_.client_chain,
                  "--key", files_.client_key, "--ca", files_.ca},
                 env);
  ASSERT_EQ(imp.exit_code, 0) << Describe(imp);
  interop::SubprocessResult r =
      RunSslshim({"fetch", "--cacert", "store:Employee/asalieri#ca", "--cert",
                  "store:Employee/asalieri", "--body", url_},
                 env);
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  nlohmann::json body = nlohmann::json::parse(OutputJson(r)["body"].get<std::string>());
  EXPECT_EQ(body["client"]["verified"], true);
  // A wrong KEK cannot open the sealed key: a clear error, not a crash.
  env["SSLSHIM_KEK"] = std::string(64, 'f');
  r = RunSslshim(
      {"fetch", "--cacert", files_.ca, "--cert", "store:Employee/asalieri", url_}, env);
  EXPECT_NE(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(OutputJson(r)["ok"], false);
  EXPECT_THAT(r.err, HasSubstr("KEK"));
}

TEST_F(FetchTest, VerifyFailureAndInsecure) {
  interop::SubprocessResult r = RunSslshim({"fetch", "--cacert", files_.other_ca, url_});
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  nlohmann::json j = OutputJson(r);
  EXPECT_EQ(j["error_kind"], "SSLCertVerificationError");
  EXPECT_EQ(j["verify_code"], 20);
  EXPECT_THAT(r.err, HasSubstr("verify code 20"));
  r = RunSslshim({"fetch", "-k", url_});
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(OutputJson(r)["status"], 200);
}

TEST_F(FetchTest, ToggleDecidesOnlyWhenNothingExplicit) {
  const ChildEnv untrusted = {{"SSL_CERT_FILE", files_.other_ca}};
  EXPECT_EQ(RunSslshim({"fetch", url_}, untrusted).exit_code, 1);
  ChildEnv on = untrusted;
  on["PYTHONHTTPSVERIFY"] = "1";
  EXPECT_EQ(RunSslshim({"fetch", url_}, on).exit_code, 1);
  ChildEnv off = untrusted;
  off["PYTHONHTTPSVERIFY"] = "0";
  interop::SubprocessResult r = RunSslshim({"fetch", url_}, off);
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("PYTHONHTTPSVERIFY"));
  // Explicit verification (--cacert) wins over the toggle.
  EXPECT_EQ(RunSslshim({"fetch", "--cacert", files_.other_ca, url_}, off).exit_code, 1);
  // The default bundle from SSL_CERT_FILE verifies a trusted server.
  EXPECT_EQ(RunSslshim({"fetch", url_}, {{"SSL_CERT_FILE", files_.ca}}).exit_code, 0);
}

TEST_F(FetchTest, RefusedAndBadUrl) {
  interop::SubprocessResult r =
      RunSslshim({"fetch", "--cacert", files_.ca, "https://localhost:1/"});
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_EQ(OutputJson(r)["ok"], false);
  r = RunSslshim({"fetch", "--cacert", files_.ca, "notaurl"});
  EXPECT_EQ(r.exit_code, 2) << Describe(r);
  r = RunSslshim({"fetch", "--cacert", files_.ca, "-H", "NoColon", url_});
  EXPECT_EQ(r.exit_code, 2) << Describe(r);
}

TEST(FetchPythonServerTest, MutualTlsAgainstPythonSslServer) {
  CliFiles f = WriteTestPki();
  const std::string script = absl::StrCat(
      "import http.server, ssl, sys\n"
      "class H(http.server.BaseHTTPRequestHandler):\n"
      "    def do_GET(self):\n"
      "        cn = dict(x[0] for x in self.connection.getpeercert()['subject'])"
      "['commonName']\n"
      "        body = ('hello ' + cn).encode()\n"
      "        self.send_response(200)\n"
      "        self.send_header('Content-Length', str(len(body)))\n"
      "        self.end_headers()\n"
      "        self.wfile.write(body)\n"
      "    def log_message(self, *a): pass\n"
      "srv = http.server.HTTPServer(('127.0.0.1', 0), H)\n"
      "ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)\n"
      "ctx.load_cert_chain('",
      f.server_chain, "', '", f.server_key,
      "')\n"
      "ctx.load_verify_locations('",
      f.ca,
      "')\n"
      "ctx.verify_mode = ssl.CERT_REQUIRED\n"
      "srv.socket = ctx.wrap_socket(srv.socket, server_side=True)\n"
      "print('PORT', srv.server_address[1], flush=True)\n"
      "srv.handle_request()\n");
  absl::StatusOr<std::unique_ptr<interop::Subprocess>> py = interop::Subprocess::Start(
      {"/usr/bin/python3", "-c", script}, "", absl::Seconds(30));
  ASSERT_TRUE(py.ok()) << py.status();
  absl::StatusOr<std::string> out = (*py)->WaitForOutput("\n");
  ASSERT_TRUE(out.ok()) << out.status() << (*py)->err();
  const std::string port = out->substr(5, out->find('\n') - 5);
  interop::SubprocessResult r =
      RunSslshim({"fetch", "--cacert", f.ca, "--cert", f.client_chain, "--key",
                  f.client_key, "--body", absl::StrCat("https://localhost:", port, "/")});
  ASSERT_EQ(r.exit_code, 0) << Describe(r) << (*py)->err();
  nlohmann::json j = OutputJson(r);
  EXPECT_EQ(j["status"], 200);
  EXPECT_THAT(j["body"].get<std::string>(), HasSubstr("hello "));
  EXPECT_EQ((*py)->Wait().exit_code, 0);
}

// Each hostile server must be cut off by `fetch --timeout 2` (the whole
// request, not each read) or by a limit, never hold the client longer.
void ExpectCutOff(const CliFiles& files, HostileServer::Respond respond,
                  const std::string& expected_message) {
  absl::StatusOr<std::unique_ptr<HostileServer>> server =
      HostileServer::Start(files, std::move(respond));
  ASSERT_TRUE(server.ok()) << server.status();
  const absl::Time start = absl::Now();
  interop::SubprocessResult r = RunSslshim(
      {"fetch", "--cacert", files.ca, "--timeout", "2", (*server)->Url()}, {},
      absl::Seconds(30));
  const absl::Duration took = absl::Now() - start;
  EXPECT_FALSE(r.timed_out) << Describe(r);
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_LT(took, absl::Seconds(5)) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr(expected_message)) << Describe(r);
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << Describe(r);
}

TEST(FetchHostileServerTest, DripFeedIsCutOffAtTheOverallDeadline) {
  const CliFiles files = WriteTestPki();
  ExpectCutOff(
      files,
      [](shim::SSLSocket& s, const std::atomic<bool>& stop) -> absl::Status {
        std::string head = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n";
        head += std::string(100, 'x');
        for (char c : head) {
          if (stop) break;
          absl::Status st = s.sendall(std::string(1, c));
          if (!st.ok()) return st;
          absl::SleepFor(absl::Milliseconds(500));
        }
        return absl::OkStatus();
      },
      "overall deadline of 2s exceeded");
}

TEST(FetchHostileServerTest, EndlessContinueIsCutOff) {
  const CliFiles files = WriteTestPki();
  ExpectCutOff(
      files,
      [](shim::SSLSocket& s, const std::atomic<bool>& stop) -> absl::Status {
        while (!stop) {
          absl::Status st = s.sendall("HTTP/1.1 100 Continue\r\n\r\n");
          if (!st.ok()) return st;
        }
        return absl::OkStatus();
      },
      "interim (1xx) responses");
}

TEST(FetchHostileServerTest, HugeContentLengthIsRefusedAtTheHeaders) {
  const CliFiles files = WriteTestPki();
  ExpectCutOff(
      files,
      [](shim::SSLSocket& s, const std::atomic<bool>& stop) -> absl::Status {
        absl::Status st =
            s.sendall("HTTP/1.1 200 OK\r\nContent-Length: 99999999999\r\n\r\n");
        while (st.ok() && !stop) {
          st = s.sendall(std::string(16384, 'x'));
        }
        return st;
      },
      "Content-Length 99999999999 exceeds");
}

// Usage mistakes are exit 2 with one stderr line, the same as a bad --port
// in connect (regressions: a bad URL port was exit 3; a CR/LF in -X split
// the stderr line; --timeout 0/nan/1e308 were accepted).
TEST(FetchUsageTest, BadUrlsMethodsAndTimeoutsAreUsageErrors) {
  for (std::vector<std::string> args : std::vector<std::vector<std::string>>{
           {"fetch", "https://localhost:99999/"},
           {"fetch", "https://localhost:abc/"},
           {"fetch", "notaurl"},
           {"fetch", "-X", "GET\r\nX-Injected: 1", "https://localhost:1/"},
           {"fetch", "-X", "", "https://localhost:1/"},
           {"fetch", "--timeout", "0", "https://localhost:1/"},
           {"fetch", "--timeout", "-1", "https://localhost:1/"},
           {"fetch", "--timeout", "nan", "https://localhost:1/"},
           {"fetch", "--timeout", "1e308", "https://localhost:1/"},
           {"connect", "--port", "99999"},
           {"connect", "--port", "1", "--timeout", "nan"}}) {
    interop::SubprocessResult r = RunSslshim(args);
    SCOPED_TRACE(args[args.size() - 1]);
    EXPECT_EQ(r.exit_code, 2) << Describe(r);
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << Describe(r);
    EXPECT_THAT(r.err, ::testing::Not(HasSubstr("\r"))) << Describe(r);
  }
}

}  // namespace
}  // namespace sslshim::runtime::cli
