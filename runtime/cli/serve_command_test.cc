// `sslshim serve` through the real binary against real peers: curl one-way
// and mutual with credentials from an LMDB store (store: references),
// rotation in the store reaching the next connection and /_status, Python
// requests with cert=(CERT, KEY), the echo server with `sslshim connect`,
// Python ssl and openssl s_client, connection events, SIGTERM.

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "runtime/cli/cli_common.h"
#include "runtime/cli/cli_test_util.h"
#include "testing/cert_builder.h"

namespace sslshim::runtime::cli {
namespace {

using ::testing::HasSubstr;

constexpr char kRecord[] = "Employee/asalieri/Address/1";
constexpr char kKek[] =
    "4242424242424242424242424242424242424242424242424242424242424242";

class ServeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    files_ = WriteTestPki();
    env_ = {{"SSLSHIM_KEK", kKek}, {"SSLSHIM_STORE", "lmdb:" + TempDir()}};
    interop::SubprocessResult r =
        RunSslshim({"store", "import", kRecord, "--cert", files_.server_chain, "--key",
                    files_.server_key, "--ca", files_.ca},
                   env_);
    ASSERT_EQ(r.exit_code, 0) << Describe(r);
  }

  interop::SubprocessResult Curl(int port, const std::vector<std::string>& extra,
                                 const std::string& path = "/hello") {
    std::vector<std::string> argv = {"/usr/bin/curl", "-sS",    "--max-time", "10",
                                     "--cacert",      files_.ca};
    argv.insert(argv.end(), extra.begin(), extra.end());
    argv.push_back(absl::StrCat("https://localhost:", port, path));
    return *interop::Subprocess::Run(argv, "", absl::Seconds(15));
  }

  // The server's certificate fingerprint as `sslshim connect` sees it.
  std::string ServedFingerprint(int port) {
    interop::SubprocessResult r =
        RunSslshim({"connect", "--port", absl::StrCat(port), "--cafile", files_.ca,
                    "--server-hostname", "localhost"});
    EXPECT_EQ(r.exit_code, 0) << Describe(r);
    nlohmann::json j = OutputJson(r);
    return j.is_object() ? j.value("peercert_sha256", "") : "";
  }

  // Stops the server (SIGTERM must end it with exit 0) and returns its
  // connection events.
  std::vector<nlohmann::json> StopAndEvents(ServeChild& s) {
    interop::SubprocessResult r = Terminate(s);
    EXPECT_EQ(r.exit_code, 0) << Describe(r);
    return JsonLines(r.out);
  }

  CliFiles files_;
  ChildEnv env_;
};

TEST_F(ServeTest, HttpOneWayFromStoreWithCurl) {
  absl::StatusOr<ServeChild> s =
      StartServe({"--http", "--certfile", absl::StrCat("store:", kRecord)}, env_);
  ASSERT_TRUE(s.ok()) << s.status();
  interop::SubprocessResult c = Curl(s->port, {"-H", "X-Test: 1", "-d", "payload"});
  ASSERT_EQ(c.exit_code, 0) << Describe(c);
  nlohmann::json body = nlohmann::json::parse(c.out, nullptr, false);
  ASSERT_TRUE(body.is_object()) << c.out;
  EXPECT_EQ(body["method"], "POST");
  EXPECT_EQ(body["target"], "/hello");
  EXPECT_EQ(body["body"], "payload");
  EXPECT_EQ(body["client"]["verified"], false);
  std::vector<nlohmann::json> events = StopAndEvents(*s);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0]["handshake"], "ok");
  EXPECT_EQ(events[0]["requests"], 1);
}

TEST_F(ServeTest, HttpMutualFromStoreWithCurl) {
  absl::StatusOr<ServeChild> s =
      StartServe({"--http", "--certfile", absl::StrCat("store:", kRecord), "--cafile",
                  absl::StrCat("store:", kRecord, "#ca"), "--verify", "required"},
                 env_);
  ASSERT_TRUE(s.ok()) << s.status();
  interop::SubprocessResult c =
      Curl(s->port, {"--cert", files_.client_chain, "--key", files_.client_key});
  ASSERT_EQ(c.exit_code, 0) << Describe(c);
  nlohmann::json body = nlohmann::json::parse(c.out, nullptr, false);
  ASSERT_TRUE(body.is_object()) << c.out;
  EXPECT_EQ(body["client"]["verified"], true);
  EXPECT_THAT(body["client"]["subject"].get<std::string>(), HasSubstr("CN="));
  EXPECT_TRUE(body["client"]["peercert"].contains("subject"));
  // Without a client certificate the handshake is refused.
  interop::SubprocessResult refused = Curl(s->port, {});
  EXPECT_NE(refused.exit_code, 0) << Describe(refused);
  std::vector<nlohmann::json> events = StopAndEvents(*s);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0]["handshake"], "ok");
  EXPECT_TRUE(events[0]["peercert"].is_object());
  EXPECT_EQ(events[1]["handshake"], "failed");
  EXPECT_TRUE(events[1].contains("error_kind")) << events[1];
}

TEST_F(ServeTest, RotationInStoreReachesNextConnectionAndStatus) {
  absl::StatusOr<ServeChild> s = StartServe(
      {"--http", "--certfile", absl::StrCat("store:", kRecord), "--recheck", "0.2"},
      env_);
  ASSERT_TRUE(s.ok()) << s.status();
  const testing::TestPki& pki = testing::SharedTestPki(testing::KeyType::kP256);
  EXPECT_EQ(ServedFingerprint(s->port), Sha256Fingerprint(pki.server.CertDer()));

  testing::Issued next =
      testing::Issue({.common_name = "localhost", .dns_names = {"localhost"}},
                     testing::KeyType::kP256, &pki.intermediate);
  const std::string dir = TempDir();
  WriteFile(dir + "/next.pem", next.CertPem() + pki.intermediate.CertPem());
  WriteFile(dir + "/next.key", next.KeyPem());
  interop::SubprocessResult rot =
      RunSslshim({"store", "rotate", kRecord, "--cert", dir + "/next.pem", "--key",
                  dir + "/next.key"},
                 env_);
  ASSERT_EQ(rot.exit_code, 0) << Describe(rot);

  const std::string want = Sha256Fingerprint(next.CertDer());
  std::string served;
  for (absl::Time end = absl::Now() + absl::Seconds(10); absl::Now() < end;) {
    served = ServedFingerprint(s->port);
    if (served == want) break;
    absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_EQ(served, want);

  interop::SubprocessResult st =
      RunSslshim({"fetch", "--body", "--cacert", files_.ca,
                  absl::StrCat("https://localhost:", s->port, "/_status")});
  ASSERT_EQ(st.exit_code, 0) << Describe(st);
  nlohmann::json status =
      nlohmann::json::parse(OutputJson(st).value("body", ""), nullptr, false);
  ASSERT_TRUE(status.is_object()) << st.out;
  ASSERT_EQ(status["slots"].size(), 1u) << status;
  EXPECT_EQ(status["slots"][0]["generation"], 2);
  EXPECT_EQ(status["slots"][0]["last_error"], "");
  EXPECT_EQ(status["slots"][0]["loads"], 2);
  EXPECT_GE(status["stats"]["handshakes_ok"].get<int>(), 2);
  EXPECT_EQ(Terminate(*s).exit_code, 0);
}

TEST_F(ServeTest, PythonRequestsMutualTls) {
  absl::StatusOr<ServeChild> s =
      StartServe({"--http", "--certfile", absl::StrCat("store:", kRecord), "--cafile",
                  files_.ca, "--verify", "required"},
                 env_);
  ASSERT_TRUE(s.ok()) << s.status();
  const std::string script = absl::StrCat(
      "import requests, sys\n"
      "r = requests.get('https://localhost:",
      s->port, "/py', verify='", files_.ca, "', cert=('", files_.client_chain, "', '",
      files_.client_key,
      "'), timeout=10)\n"
      "print(r.status_code, r.json()['client']['verified'])\n"
      "try:\n"
      "    requests.get('https://localhost:",
      s->port, "/py', verify='", files_.ca,
      "', timeout=10)\n"
      "    print('no-cert accepted')\n"
      "except requests.exceptions.RequestException as e:\n"
      "    print('refused')\n");
  absl::StatusOr<interop::SubprocessResult> py =
      interop::Subprocess::Run({"/usr/bin/python3", "-c", script}, "", absl::Seconds(20));
  ASSERT_TRUE(py.ok()) << py.status();
  EXPECT_EQ(py->exit_code, 0) << Describe(*py);
  EXPECT_EQ(py->out, "200 True\nrefused\n") << Describe(*py);
  EXPECT_EQ(Terminate(*s).exit_code, 0);
}

TEST_F(ServeTest, EchoWithConnectPythonAndOpenSsl) {
  absl::StatusOr<ServeChild> s = StartServe(
      {"--echo", "--certfile", files_.server_chain, "--keyfile", files_.server_key});
  ASSERT_TRUE(s.ok()) << s.status();
  interop::SubprocessResult c =
      RunSslshim({"connect", "--port", absl::StrCat(s->port), "--cafile", files_.ca,
                  "--server-hostname", "localhost", "--send", "hello echo"});
  ASSERT_EQ(c.exit_code, 0) << Describe(c);
  nlohmann::json j = OutputJson(c);
  EXPECT_EQ(j["received"], "hello echo");
  EXPECT_EQ(j["version"], "TLSv1.3");

  const std::string script = absl::StrCat(
      "import socket, ssl\n"
      "ctx = ssl.create_default_context(cafile='",
      files_.ca,
      "')\n"
      "with socket.create_connection(('127.0.0.1', ",
      s->port,
      "), timeout=10) as raw:\n"
      "    with ctx.wrap_socket(raw, server_hostname='localhost') as tls:\n"
      "        tls.sendall(b'from python')\n"
      "        print(tls.recv(100).decode())\n");
  absl::StatusOr<interop::SubprocessResult> py =
      interop::Subprocess::Run({"/usr/bin/python3", "-c", script}, "", absl::Seconds(20));
  ASSERT_TRUE(py.ok()) << py.status();
  EXPECT_EQ(py->out, "from python\n") << Describe(*py);

  absl::StatusOr<interop::SubprocessResult> ossl = interop::Subprocess::Run(
      {"/usr/bin/openssl", "s_client", "-connect", absl::StrCat("127.0.0.1:", s->port),
       "-servername", "localhost", "-CAfile", files_.ca, "-verify_return_error",
       "-verify_hostname", "localhost", "-brief"},
      "", absl::Seconds(15));
  ASSERT_TRUE(ossl.ok()) << ossl.status();
  EXPECT_EQ(ossl->exit_code, 0) << Describe(*ossl);
  EXPECT_THAT(ossl->err, HasSubstr("Verification: OK")) << Describe(*ossl);

  std::vector<nlohmann::json> events = StopAndEvents(*s);
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0]["handshake"], "ok");
  EXPECT_EQ(events[0]["bytes_in"], 10);
  EXPECT_EQ(events[0]["bytes_out"], 10);
}

TEST_F(ServeTest, EchoReportsFailedHandshakeWithVerifyCode) {
  absl::StatusOr<ServeChild> s = StartServe({"--echo", "--certfile", files_.server_chain,
                                             "--keyfile", files_.server_key, "--cafile",
                                             files_.other_ca, "--verify", "required"});
  ASSERT_TRUE(s.ok()) << s.status();
  // The client's certificate does not chain to the server's CA.
  interop::SubprocessResult c =
      RunSslshim({"connect", "--port", absl::StrCat(s->port), "--cafile", files_.ca,
                  "--server-hostname", "localhost", "--certfile", files_.client_chain,
                  "--keyfile", files_.client_key, "--send", "x"});
  EXPECT_EQ(c.exit_code, 1) << Describe(c);
  std::vector<nlohmann::json> events = StopAndEvents(*s);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0]["handshake"], "failed");
  EXPECT_EQ(events[0]["error_kind"], "SSLCertVerificationError") << events[0];
  EXPECT_EQ(events[0]["verify_code"], 20) << events[0];
}

TEST_F(ServeTest, StoreDownOrRecordMissingIsAClearStartupError) {
  interop::SubprocessResult r = RunSslshim(
      {"serve", "--http", "--certfile", "store:Employee/nobody/Address/1"}, env_);
  EXPECT_EQ(r.exit_code, 2) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("Employee/nobody/Address/1"));
}

}  // namespace
}  // namespace sslshim::runtime::cli
