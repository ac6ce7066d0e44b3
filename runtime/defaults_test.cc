// Tests of AppRuntime over real loopback TLS: the verify toggle decides
// wrap_socket's and create_default_context's defaults, explicit cert_reqs
// wins both ways, and the default bundle is one the test writes.

#include "runtime/defaults.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "openssl/ssl.h"
#include "shim/errors.h"
#include "shim/ssl.h"
#include "testing/cert_builder.h"
#include "testing/fd_count.h"
#include "testing/socket_pair.h"
#include "testing/status_matchers.h"

namespace sslshim::runtime {
namespace {

using shim::ErrorKind;
using shim::GetErrorKind;
using ::sslshim::testing::IsOk;
using ::sslshim::testing::KeyType;
using ::sslshim::testing::OpenFdCount;
using ::sslshim::testing::StatusIs;
using ::sslshim::testing::TestPki;
using ::testing::AllOf;
using ::testing::HasSubstr;

constexpr char kSslApp[] = "libraries:\n- name: ssl\n  version: latest\n";

std::string TmpPath(absl::string_view name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return absl::StrCat(dir != nullptr ? dir : "/tmp", "/",
                      ::testing::UnitTest::GetInstance()->current_test_info()->name(),
                      "_", name);
}

void WriteFile(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  ASSERT_TRUE(out.good()) << path;
}

// The trusted PKI's root is in the default bundle; the untrusted one's is not.
const TestPki& Trusted() { return testing::SharedTestPki(KeyType::kP256); }
const TestPki& Untrusted() {
  static const TestPki* pki = new TestPki(TestPki::Make(KeyType::kP256));
  return *pki;
}

struct Logs {
  std::mutex mu;
  std::vector<std::string> lines;
  LogSink sink() {
    return [this](absl::string_view l) {
      std::lock_guard<std::mutex> lock(mu);
      lines.emplace_back(l);
    };
  }
  size_t size() {
    std::lock_guard<std::mutex> lock(mu);
    return lines.size();
  }
};

class DefaultsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    bundle_ = TmpPath("bundle.pem");
    WriteFile(bundle_, Trusted().RootPem());
  }

  // Runtime for `yaml` with SSL_CERT_FILE pointing at the test's bundle and
  // `env` on top.
  std::shared_ptr<AppRuntime> Runtime(Env env = {}, const std::string& yaml = kSslApp) {
    Env host{{"SSL_CERT_FILE", bundle_}};
    for (auto& [k, v] : env) host[k] = v;
    auto rt = AppRuntime::Create(shim::StringIO(yaml),
                                 {.host_env = host,
                                  .log_sink = logs_.sink(),
                                  .ca_recheck_interval = absl::ZeroDuration()});
    EXPECT_THAT(rt, IsOk());
    return rt.ok() ? *rt : nullptr;
  }

  // Connects rt.wrap_socket(args) to a server presenting `pki`'s server
  // chain over loopback; returns the client's status. The server side
  // times out after 10 s, so a failing case cannot hang.
  absl::Status Connect(const AppRuntime& rt, const TestPki& pki,
                       shim::WrapSocketArgs args) {
    auto pair = testing::MakeTcpPair();
    if (!pair.ok()) return pair.status();
    auto server_ctx = *shim::SSLContext::Create(shim::PROTOCOL_TLS_SERVER);
    absl::Status s = server_ctx->load_cert_chain(shim::StringIO(pki.ServerChainPem()),
                                                 shim::StringIO(pki.server.KeyPem()));
    if (!s.ok()) return s;
    std::thread server([&] {
      auto sock = server_ctx->wrap_socket(
          pair->server, {.server_side = true, .do_handshake_on_connect = false});
      if (!sock.ok()) return;
      if (!(*sock)->settimeout(absl::Seconds(10)).ok()) return;
      if (!(*sock)->do_handshake().ok()) return;
      auto got = (*sock)->recv(16);
      if (got.ok()) (void)(*sock)->sendall(*got);
    });
    args.do_handshake_on_connect = false;
    absl::Status result = [&]() -> absl::Status {
      auto sock = rt.wrap_socket(pair->client, args);
      if (!sock.ok()) return sock.status();
      absl::Status st = (*sock)->settimeout(absl::Seconds(10));
      if (st.ok()) st = (*sock)->do_handshake();
      if (st.ok()) st = (*sock)->sendall("ping");
      if (st.ok()) {
        auto got = (*sock)->recv(16);
        if (!got.ok()) return got.status();
        if (*got != "ping") return absl::DataLossError("echo mismatch");
      }
      return st;
    }();
    server.join();
    return result;
  }

  std::string bundle_;
  Logs logs_;
};

TEST_F(DefaultsTest, ToggleUnsetVerifiesAgainstTheDefaultBundle) {
  auto rt = Runtime();
  EXPECT_THAT(Connect(*rt, Trusted(), {.server_hostname = "localhost"}), IsOk());
  absl::Status untrusted = Connect(*rt, Untrusted(), {.server_hostname = "localhost"});
  EXPECT_EQ(GetErrorKind(untrusted), ErrorKind::kSSLCertVerificationError) << untrusted;
  EXPECT_THAT(untrusted, StatusIs(absl::StatusCode::kUnauthenticated,
                                  HasSubstr("CERTIFICATE_VERIFY_FAILED")));
  EXPECT_EQ(logs_.size(), 0u);
}

TEST_F(DefaultsTest, ToggleUnsetChecksTheHostname) {
  auto rt = Runtime();
  absl::Status wrong = Connect(*rt, Trusted(), {.server_hostname = "wrong.example"});
  EXPECT_THAT(wrong,
              StatusIs(absl::StatusCode::kUnauthenticated, HasSubstr("wrong.example")));
  EXPECT_THAT(Connect(*rt, Trusted(), {.server_hostname = "127.0.0.1"}), IsOk());
}

TEST_F(DefaultsTest, ToggleOneIsTheSameAsUnset) {
  auto rt = Runtime({{"PYTHONHTTPSVERIFY", "1"}});
  EXPECT_EQ(GetErrorKind(Connect(*rt, Untrusted(), {.server_hostname = "localhost"})),
            ErrorKind::kSSLCertVerificationError);
  EXPECT_THAT(Connect(*rt, Trusted(), {.server_hostname = "localhost"}), IsOk());
}

TEST_F(DefaultsTest, ToggleZeroConnectsToAnUntrustedServerAndWarnsOnce) {
  auto rt = Runtime({{"PYTHONHTTPSVERIFY", "0"}});
  EXPECT_THAT(Connect(*rt, Untrusted(), {.server_hostname = "localhost"}), IsOk());
  EXPECT_THAT(Connect(*rt, Untrusted(), {}), IsOk()) << "no hostname needed";
  ASSERT_EQ(logs_.size(), 1u);
  EXPECT_THAT(logs_.lines[0], HasSubstr("PYTHONHTTPSVERIFY=0"));
}

TEST_F(DefaultsTest, ToggleFromAppYamlEnvVariablesOverridesTheHost) {
  auto rt = Runtime({{"PYTHONHTTPSVERIFY", "1"}},
                    absl::StrCat(kSslApp, "env_variables:\n  PYTHONHTTPSVERIFY: 0\n"));
  EXPECT_EQ(rt->env().at("PYTHONHTTPSVERIFY"), "0");
  EXPECT_THAT(Connect(*rt, Untrusted(), {.server_hostname = "localhost"}), IsOk());
  EXPECT_EQ(logs_.size(), 1u);
}

TEST_F(DefaultsTest, ExplicitCertNoneWinsOverVerifyingToggle) {
  auto rt = Runtime();
  EXPECT_THAT(Connect(*rt, Untrusted(), {.cert_reqs = shim::CERT_NONE}), IsOk());
  EXPECT_EQ(logs_.size(), 0u);
}

TEST_F(DefaultsTest, ExplicitCertRequiredWinsOverToggleZero) {
  auto rt = Runtime({{"PYTHONHTTPSVERIFY", "0"}});
  const shim::WrapSocketArgs args{.cert_reqs = shim::CERT_REQUIRED,
                                  .ca_certs = shim::StringIO(Trusted().RootPem())};
  EXPECT_EQ(GetErrorKind(Connect(*rt, Untrusted(), args)),
            ErrorKind::kSSLCertVerificationError);
  EXPECT_THAT(Connect(*rt, Trusted(), args), IsOk());
  EXPECT_EQ(logs_.size(), 0u) << "the toggle was never consulted";
}

TEST_F(DefaultsTest, VerifyingWithoutServerHostnameIsRefusedAndClosesTheFd) {
  auto rt = Runtime();
  const int fds = OpenFdCount();
  auto pair = testing::MakeTcpPair();
  ASSERT_THAT(pair, IsOk());
  EXPECT_THAT(
      rt->wrap_socket(pair->client, {}),
      StatusIs(absl::StatusCode::kInvalidArgument,
               AllOf(HasSubstr("server_hostname"), HasSubstr("PYTHONHTTPSVERIFY"))));
  ::close(pair->server);
  EXPECT_EQ(OpenFdCount(), fds);
}

TEST_F(DefaultsTest, CallerCaCertsReplaceTheDefaultBundleWhenVerifying) {
  auto rt = Runtime();
  const shim::WrapSocketArgs args{.ca_certs = shim::StringIO(Untrusted().RootPem()),
                                  .server_hostname = "localhost"};
  EXPECT_THAT(Connect(*rt, Untrusted(), args), IsOk());
  EXPECT_EQ(GetErrorKind(Connect(*rt, Trusted(), args)),
            ErrorKind::kSSLCertVerificationError);
}

TEST_F(DefaultsTest, WithoutTheSslLibraryTheFacadeIsRefused) {
  auto rt = Runtime({}, "runtime: python27\n");
  const int fds = OpenFdCount();
  auto pair = testing::MakeTcpPair();
  ASSERT_THAT(pair, IsOk());
  EXPECT_THAT(rt->wrap_socket(pair->client, {.cert_reqs = shim::CERT_NONE}),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       AllOf(HasSubstr("libraries:\n- name: ssl\n"),
                             HasSubstr("version: latest"))));
  ::close(pair->server);
  EXPECT_EQ(OpenFdCount(), fds);
  EXPECT_THAT(rt->create_default_context(),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST_F(DefaultsTest, MissingBundleIsAClearErrorOnlyWhenNeeded) {
  const std::string missing = TmpPath("nope.pem");
  auto rt = Runtime({{"SSL_CERT_FILE", missing}});
  EXPECT_THAT(Connect(*rt, Trusted(), {.server_hostname = "localhost"}),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       AllOf(HasSubstr(missing), HasSubstr("SSL_CERT_FILE"))));
  auto off = Runtime({{"SSL_CERT_FILE", missing}, {"PYTHONHTTPSVERIFY", "0"}});
  EXPECT_THAT(Connect(*off, Untrusted(), {}), IsOk());
}

TEST_F(DefaultsTest, BundlePathPrecedence) {
  const std::string yaml = absl::StrCat(kSslApp, "ca_bundle: /from/app.yaml\n");
  auto rt = AppRuntime::Create(shim::StringIO(yaml),
                               {.host_env = Env{{"SSL_CERT_FILE", "/from/env"}}});
  ASSERT_THAT(rt, IsOk());
  EXPECT_EQ((*rt)->ca_bundle().path(), "/from/env");
  rt = AppRuntime::Create(shim::StringIO(yaml), {.host_env = Env{}});
  ASSERT_THAT(rt, IsOk());
  EXPECT_EQ((*rt)->ca_bundle().path(), "/from/app.yaml");
  rt = AppRuntime::Create(shim::StringIO(kSslApp), {.host_env = Env{}});
  ASSERT_THAT(rt, IsOk());
  EXPECT_EQ((*rt)->ca_bundle().path(), "/etc/ca-certificates.crt");
}

TEST_F(DefaultsTest, CreateErrorsComeFromConfigAndEnvironment) {
  EXPECT_THAT(AppRuntime::Create(shim::StringIO("libraries: {\n"), {.host_env = Env{}}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("StringIO:")));
  EXPECT_THAT(AppRuntime::Create(shim::StringIO(kSslApp),
                                 {.host_env = Env{{"PYTHONHTTPSVERIFY", "yes"}}}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("PYTHONHTTPSVERIFY=\"yes\"")));
  auto custom = AppRuntime::Create(
      shim::StringIO(absl::StrCat(kSslApp, "verify_env_name: APP_VERIFY\n")),
      {.host_env = Env{{"PYTHONHTTPSVERIFY", "bogus"}, {"APP_VERIFY", "0"}}});
  ASSERT_THAT(custom, IsOk());
  EXPECT_FALSE((*custom)->verify_policy().verify_by_default());
  EXPECT_EQ((*custom)->verify_policy().variable(), "APP_VERIFY");
}

TEST_F(DefaultsTest, RewrittenBundleReachesTheNextConnection) {
  auto rt = Runtime();
  EXPECT_FALSE(Connect(*rt, Untrusted(), {.server_hostname = "localhost"}).ok());
  WriteFile(bundle_, Trusted().RootPem() + Untrusted().RootPem());
  EXPECT_THAT(Connect(*rt, Untrusted(), {.server_hostname = "localhost"}), IsOk());
  EXPECT_EQ(rt->ca_bundle().loads(), 2u);
}

TEST_F(DefaultsTest, TlsRangeFollowsTheLibraryVersion) {
  auto latest = Runtime();
  auto ctx = latest->create_default_context();
  ASSERT_THAT(ctx, IsOk());
  EXPECT_EQ((*ctx)->minimum_version(), shim::TLSVersion::TLSv1_2);
  EXPECT_EQ((*ctx)->maximum_version(), shim::TLSVersion::TLSv1_3);
  EXPECT_THAT(
      Connect(*latest, Trusted(),
              {.cert_reqs = shim::CERT_NONE, .ssl_version = shim::PROTOCOL_TLSv1}),
      StatusIs(absl::StatusCode::kInvalidArgument,
               AllOf(HasSubstr("TLS 1.0"), HasSubstr("latest"))));
  auto old = Runtime({}, "libraries:\n- name: ssl\n  version: 2.7.11\n");
  ctx = old->create_default_context();
  ASSERT_THAT(ctx, IsOk());
  EXPECT_EQ((*ctx)->minimum_version(), shim::TLSVersion::TLSv1);
  EXPECT_EQ((*ctx)->maximum_version(), shim::TLSVersion::TLSv1_2);
}

TEST_F(DefaultsTest, CreateDefaultContextFollowsTheToggle) {
  auto rt = Runtime();
  auto a = rt->create_default_context();
  auto b = rt->create_default_context();
  ASSERT_THAT(a, IsOk());
  ASSERT_THAT(b, IsOk());
  EXPECT_EQ((*a)->protocol(), shim::PROTOCOL_TLS_CLIENT);
  EXPECT_EQ((*a)->verify_mode(), shim::CERT_REQUIRED);
  EXPECT_TRUE((*a)->check_hostname());
  EXPECT_EQ(SSL_CTX_get_cert_store((*a)->native()),
            SSL_CTX_get_cert_store((*b)->native()))
      << "one shared store";
  EXPECT_EQ(rt->ca_bundle().loads(), 1u);

  auto off = Runtime({{"PYTHONHTTPSVERIFY", "0"}});
  auto c = off->create_default_context();
  ASSERT_THAT(c, IsOk());
  EXPECT_EQ((*c)->verify_mode(), shim::CERT_NONE);
  EXPECT_FALSE((*c)->check_hostname());
  EXPECT_EQ(logs_.size(), 1u);
  auto d = off->create_default_context(Purpose::SERVER_AUTH, {.verify = true});
  ASSERT_THAT(d, IsOk());
  EXPECT_EQ((*d)->verify_mode(), shim::CERT_REQUIRED);

  auto server = rt->create_default_context(Purpose::CLIENT_AUTH);
  ASSERT_THAT(server, IsOk());
  EXPECT_EQ((*server)->protocol(), shim::PROTOCOL_TLS_SERVER);
  EXPECT_EQ((*server)->verify_mode(), shim::CERT_NONE);
  EXPECT_THAT(rt->create_default_context(Purpose::CLIENT_AUTH, {.verify = true}),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(DefaultsTest, CreateDefaultContextHandshakes) {
  auto rt = Runtime();
  auto ctx = *rt->create_default_context();
  auto handshake = [&](const TestPki& pki, const std::string& host) {
    auto pair = testing::MakeTcpPair();
    EXPECT_THAT(pair, IsOk());
    auto server_ctx = *shim::SSLContext::Create(shim::PROTOCOL_TLS_SERVER);
    EXPECT_THAT(server_ctx->load_cert_chain(shim::StringIO(pki.ServerChainPem()),
                                            shim::StringIO(pki.server.KeyPem())),
                IsOk());
    std::thread server([&] {
      auto s = server_ctx->wrap_socket(
          pair->server, {.server_side = true, .do_handshake_on_connect = false});
      if (s.ok() && (*s)->settimeout(absl::Seconds(10)).ok()) {
        (void)(*s)->do_handshake();
      }
    });
    auto s = ctx->wrap_socket(
        pair->client, {.do_handshake_on_connect = false, .server_hostname = host});
    absl::Status st = s.status();
    if (st.ok()) st = (*s)->settimeout(absl::Seconds(10));
    if (st.ok()) st = (*s)->do_handshake();
    server.join();
    return st;
  };
  EXPECT_THAT(handshake(Trusted(), "localhost"), IsOk());
  EXPECT_EQ(GetErrorKind(handshake(Untrusted(), "localhost")),
            ErrorKind::kSSLCertVerificationError);
  EXPECT_THAT(handshake(Trusted(), "other.example"),
              StatusIs(absl::StatusCode::kUnauthenticated));
}

TEST_F(DefaultsTest, ConcurrentWrapSocketsShareOneBundle) {
  auto rt = Runtime();
  std::vector<std::thread> threads;
  std::vector<absl::Status> results(4);
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      results[i] = Connect(*rt, Trusted(), {.server_hostname = "localhost"});
    });
  }
  for (auto& t : threads) t.join();
  for (const absl::Status& s : results) EXPECT_THAT(s, IsOk());
  EXPECT_EQ(rt->ca_bundle().loads(), 1u);
}

}  // namespace
}  // namespace sslshim::runtime
