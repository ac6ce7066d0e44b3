// `sslshim serve` through the real binary against real peers: curl one-way
// and mutual with credentials from an LMDB store (store: references),
// rotation in the store reaching the next connection and /_status, Python
// requests with cert=(CERT, KEY), the echo server with `sslshim connect`,
// Python ssl and openssl s_client, connection events, SIGTERM.

#include <unistd.h>

#include <algorithm>
#include <functional>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "certstore/lmdb_damage.h"
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
    store_dir_ = TempDir();
    env_ = {{"SSLSHIM_KEK", kKek}, {"SSLSHIM_STORE", "lmdb:" + store_dir_}};
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

  // The server's GET /_status document (null when it cannot be fetched).
  nlohmann::json Status(int port) {
    interop::SubprocessResult st =
        RunSslshim({"fetch", "--body", "--cacert", files_.ca,
                    absl::StrCat("https://localhost:", port, "/_status")});
    EXPECT_EQ(st.exit_code, 0) << Describe(st);
    return nlohmann::json::parse(OutputJson(st).value("body", ""), nullptr, false);
  }

  // Stops the server (SIGTERM must end it with exit 0) and returns its
  // connection events.
  std::vector<nlohmann::json> StopAndEvents(ServeChild& s) {
    interop::SubprocessResult r = Terminate(s);
    EXPECT_EQ(r.exit_code, 0) << Describe(r);
    return JsonLines(r.out);
  }

  CliFiles files_;
  std::string store_dir_;
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

  nlohmann::json status = Status(s->port);
  ASSERT_TRUE(status.is_object());
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

// Issue 8 item 2: the LMDB file is truncated, emptied and corrupted under a
// running store-backed server. The process stays up, keeps completing
// handshakes with the last good certificate, /_status names the error, the
// store CLI says "corrupt" (exit 7, one line), and a restored file is read
// again.
TEST_F(ServeTest, DamagedStoreUnderneathKeepsServingLastGoodCertificate) {
  absl::StatusOr<ServeChild> s = StartServe(
      {"--http", "--certfile", absl::StrCat("store:", kRecord), "--recheck", "0.1"},
      env_);
  ASSERT_TRUE(s.ok()) << s.status();
  const testing::TestPki& pki = testing::SharedTestPki(testing::KeyType::kP256);
  const std::string good = Sha256Fingerprint(pki.server.CertDer());
  ASSERT_EQ(ServedFingerprint(s->port), good);
  const std::string data = store_dir_ + "/data.mdb";
  const std::string intact = certstore::ReadFileBytes(data);
  ASSERT_GT(intact.size(), 8192u);

  struct Damage {
    const char* name;
    std::function<void()> apply;
    const char* error;
  };
  const Damage damages[] = {
      {"truncate -s 8192", [&] { ASSERT_EQ(truncate(data.c_str(), 8192), 0); },
       "truncated"},
      {"truncate -s 0", [&] { ASSERT_EQ(truncate(data.c_str(), 0), 0); },
       "empty (0 bytes)"},
      {"2-byte flip in the meta page",
       [&] {
         ASSERT_TRUE(
             certstore::FlipBytes(
                 data, certstore::NewestMeta(intact) + certstore::kMetaMainRoot + 4, 2)
                 .ok());
       },
       "meta page"},
  };
  for (const Damage& d : damages) {
    SCOPED_TRACE(d.name);
    d.apply();
    std::string last_error;
    for (absl::Time end = absl::Now() + absl::Seconds(10); absl::Now() < end;) {
      nlohmann::json st = Status(s->port);
      ASSERT_TRUE(st.is_object()) << "server gone?";
      last_error = st["slots"][0].value("last_error", "");
      if (absl::StrContains(last_error, d.error)) break;
      absl::SleepFor(absl::Milliseconds(100));
    }
    EXPECT_THAT(last_error, HasSubstr(d.error));
    EXPECT_THAT(last_error, HasSubstr("DATA_LOSS"));
    EXPECT_EQ(ServedFingerprint(s->port), good);
    // The store CLI on the same store: corrupt, exit 7, one stderr line.
    interop::SubprocessResult list = RunSslshim({"store", "list"}, env_);
    EXPECT_EQ(list.exit_code, 7) << Describe(list);
    EXPECT_THAT(list.err, HasSubstr(d.error));
    EXPECT_EQ(std::count(list.err.begin(), list.err.end(), '\n'), 1) << list.err;
    EXPECT_EQ(list.out, "");
    // Restored in place: the error clears.
    ASSERT_TRUE(certstore::WriteFileAt(data, intact, 0).ok());
    for (absl::Time end = absl::Now() + absl::Seconds(10); absl::Now() < end;) {
      last_error = Status(s->port)["slots"][0].value("last_error", "?");
      if (last_error.empty()) break;
      absl::SleepFor(absl::Milliseconds(100));
    }
    EXPECT_EQ(last_error, "");
  }
  EXPECT_EQ(Terminate(*s).exit_code, 0);
}

// Issue 8 items 5 and 10: numeric flag values are checked before anything
// starts; each mistake is exit 2 with one stderr line naming the flag.
TEST_F(ServeTest, BadFlagValuesAreUsageErrorsNamingTheFlag) {
  const std::vector<std::vector<std::string>> bad = {
      {"--recheck", "0"},  {"--recheck", "-1"},    {"--recheck", "nan"},
      {"--timeout", "0"},  {"--timeout", "nan"},   {"--timeout", "1e308"},
      {"--timeout", "-5"}, {"--port", "70000"},    {"--port", "-1"},
      {"--threads", "-1"}, {"--threads", "100000"}};
  for (const std::vector<std::string>& flag : bad) {
    std::vector<std::string> args = {"serve",      "--http",
                                     "--certfile", files_.server_chain,
                                     "--keyfile",  files_.server_key};
    args.insert(args.end(), flag.begin(), flag.end());
    const absl::Time start = absl::Now();
    interop::SubprocessResult r = RunSslshim(args, {}, absl::Seconds(10));
    EXPECT_EQ(r.exit_code, 2) << flag[0] << " " << flag[1] << ": " << Describe(r);
    EXPECT_THAT(r.err, HasSubstr(flag[0])) << Describe(r);
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_EQ(r.out, "") << "nothing may start";
    EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  }
}

// A port mistake gets the same exit code in every subcommand that takes one:
// 2 for a bad value; 1 for an operational failure (serve: the port is in
// use; connect: nothing listens).
TEST_F(ServeTest, PortMistakesHaveOneExitCodeAcrossSubcommands) {
  for (const char* port : {"70000", "abc", "-1"}) {
    for (const char* cmd : {"serve", "connect"}) {
      std::vector<std::string> args = {cmd, "--port", port};
      if (std::string(cmd) == "serve") {
        args.insert(args.end(), {"--echo", "--certfile", files_.server_chain, "--keyfile",
                                 files_.server_key});
      }
      interop::SubprocessResult r = RunSslshim(args, {}, absl::Seconds(10));
      EXPECT_EQ(r.exit_code, 2) << cmd << " --port " << port << ": " << Describe(r);
      EXPECT_THAT(std::vector<std::string>(absl::StrSplit(r.err, '\n')).front(),
                  HasSubstr("port"))
          << Describe(r);
    }
  }
  absl::StatusOr<ServeChild> first = StartServe(
      {"--echo", "--certfile", files_.server_chain, "--keyfile", files_.server_key});
  ASSERT_TRUE(first.ok()) << first.status();
  interop::SubprocessResult in_use =
      RunSslshim({"serve", "--echo", "--port", absl::StrCat(first->port), "--certfile",
                  files_.server_chain, "--keyfile", files_.server_key},
                 {}, absl::Seconds(10));
  EXPECT_EQ(in_use.exit_code, 1) << Describe(in_use);
  EXPECT_THAT(in_use.err, HasSubstr(absl::StrCat(first->port)));
  EXPECT_EQ(std::count(in_use.err.begin(), in_use.err.end(), '\n'), 1) << in_use.err;
  EXPECT_EQ(Terminate(*first).exit_code, 0);
  // Now nothing listens there: connect's operational failure is 1 as well.
  interop::SubprocessResult refused =
      RunSslshim({"connect", "--port", absl::StrCat(first->port), "--cafile", files_.ca});
  EXPECT_EQ(refused.exit_code, 1) << Describe(refused);
}

// Issue 8 item 10: --timeout is the idle timeout too. A kept-alive
// connection left idle is closed after --timeout, not after 60 s.
TEST_F(ServeTest, TimeoutFlagSetsTheIdleTimeout) {
  absl::StatusOr<ServeChild> s =
      StartServe({"--http", "--certfile", files_.server_chain, "--keyfile",
                  files_.server_key, "--timeout", "1"});
  ASSERT_TRUE(s.ok()) << s.status();
  const std::string script = absl::StrCat(
      "import socket, ssl, time\n"
      "ctx = ssl.create_default_context(cafile='",
      files_.ca, "')\n", "raw = socket.create_connection(('127.0.0.1', ", s->port,
      "), timeout=30)\n",
      "tls = ctx.wrap_socket(raw, server_hostname='localhost')\n"
      "tls.sendall(b'GET /idle HTTP/1.1\\r\\nHost: localhost\\r\\n\\r\\n')\n"
      "buf = b''\n"
      "while b'\\r\\n\\r\\n' not in buf:\n"
      "    buf += tls.recv(4096)\n"
      "start = time.monotonic()\n"
      "try:\n"
      "    while tls.recv(4096):\n"
      "        pass\n"
      "except (OSError, ssl.SSLError):\n"
      "    pass\n"
      "print('%.1f' % (time.monotonic() - start))\n");
  absl::StatusOr<interop::SubprocessResult> py =
      interop::Subprocess::Run({"/usr/bin/python3", "-c", script}, "", absl::Seconds(45));
  ASSERT_TRUE(py.ok()) << py.status();
  ASSERT_EQ(py->exit_code, 0) << Describe(*py);
  double idle = 0;
  ASSERT_TRUE(absl::SimpleAtod(absl::StripAsciiWhitespace(py->out), &idle)) << py->out;
  EXPECT_GE(idle, 0.5);
  EXPECT_LT(idle, 5.0) << "idle connection was not closed after --timeout";
  std::vector<nlohmann::json> events = StopAndEvents(*s);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0]["requests"], 1);
}

}  // namespace
}  // namespace sslshim::runtime::cli
