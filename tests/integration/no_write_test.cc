// The no-write proof (issue 2, item 2; issue 4, item 5): one-way and mutual
// TLS between a facade server and a facade client over real loopback TCP,
// with every credential read from memory (StringIO, CallableReader, encrypted
// keys with a password string or callback), in a process that cannot write a
// file. The sandbox is irreversible, so each case runs in a forked child that
// installs it FIRST, before any SSLContext exists; the child reports every
// result through a pipe and the parent asserts on them.

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <thread>
#include <tuple>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "runtime/forked_child.h"
#include "runtime/sandbox.h"
#include "shim/ssl.h"
#include "testing/cert_builder.h"
#include "testing/socket_pair.h"

namespace sslshim {
namespace {

using ::sslshim::runtime::InstallNoWriteSandbox;
using ::sslshim::runtime::testing::ChildReporter;
using ::sslshim::runtime::testing::ChildResult;
using ::sslshim::runtime::testing::FreshTempDir;
using ::sslshim::runtime::testing::ListDir;
using ::sslshim::runtime::testing::Outcome;
using ::sslshim::runtime::testing::RunInForkedChild;
using ::sslshim::testing::KeyType;
using ::sslshim::testing::TestPki;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr char kServerKeyPassword[] = "server key password";
constexpr char kClientKeyPassword[] = "client key password";
constexpr timeval kIoTimeout = {10, 0};

using Wrapper = std::function<absl::StatusOr<std::unique_ptr<ssl::SSLSocket>>(int fd)>;

// SideResult is what one end of a connection saw.
struct SideResult {
  absl::Status status;    // First failure: wrap/handshake, I/O, checks.
  std::string received;   // What the peer sent.
  std::string peer_cn;    // commonName in getpeercert()'s subject.
  std::string peer_repr;  // getpeercert() as Python repr.
  std::string version;    // Negotiated version, e.g. "TLSv1.3".
};


// Exchange runs after the handshake: the client sends `ping`, the server
// answers "pong:" + what it got, and each side records its peer certificate.
absl::Status Exchange(ssl::SSLSocket& s, bool server, SideResult* out) {
  absl::StatusOr<ssl::PyValue> peer = s.getpeercert();
  if (!peer.ok()) return peer.status();
  out->peer_cn = ssl::SubjectCommonName(*peer);
  out->peer_repr = peer->ToPythonRepr();
  out->version = s.version().value_or("");
  if (!server) {
    absl::Status st = s.sendall("ping");
    if (!st.ok()) return st;
  }
  absl::StatusOr<std::string> got = s.recv(1024);
  if (!got.ok()) return got.status();
  out->received = *got;
  return server ? s.sendall(absl::StrCat("pong:", *got)) : absl::OkStatus();
}

SideResult RunSide(const Wrapper& wrap, int fd, bool server) {
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &kIoTimeout, sizeof(kIoTimeout));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &kIoTimeout, sizeof(kIoTimeout));
  SideResult out;
  absl::StatusOr<std::unique_ptr<ssl::SSLSocket>> s = wrap(fd);  // Owns fd.
  out.status = s.ok() ? Exchange(**s, server, &out) : s.status();
  return out;
}

// Connect runs one connection over real loopback TCP: the server in a
// thread, the client on the calling thread.
std::pair<SideResult, SideResult> Connect(const Wrapper& server, const Wrapper& client) {
  absl::StatusOr<sslshim::testing::TcpPair> pair = sslshim::testing::MakeTcpPair();
  if (!pair.ok()) return {{pair.status()}, {pair.status()}};
  SideResult server_result;
  std::thread t([&] { server_result = RunSide(server, pair->server, true); });
  SideResult client_result = RunSide(client, pair->client, false);
  t.join();
  return {std::move(server_result), std::move(client_result)};
}

void ReportSide(ChildReporter& out, const std::string& prefix, const SideResult& side) {
  out.ReportStatus(prefix + ".status", side.status);
  out.Report(prefix + ".kind", ssl::ErrorKindName(ssl::GetErrorKind(side.status)));
  out.Report(prefix + ".received", side.received);
  out.Report(prefix + ".peer_cn", side.peer_cn);
  out.Report(prefix + ".peer", side.peer_repr);
  out.Report(prefix + ".version", side.version);
}

std::shared_ptr<ssl::Reader> Callable(std::string name, std::string content) {
  return ssl::CallableReader(std::move(name),
                             [content]() -> absl::StatusOr<std::string> { return content; });
}

// Params: key type of the whole PKI, and the TLS version to pin.
class NoWriteTlsTest : public ::testing::TestWithParam<std::tuple<KeyType, ssl::TLSVersion>> {
 protected:
  KeyType key_type() const { return std::get<0>(GetParam()); }
  ssl::TLSVersion version() const { return std::get<1>(GetParam()); }
  std::string version_name() const {
    return version() == ssl::TLSVersion::TLSv1_3 ? "TLSv1.3" : "TLSv1.2";
  }
};

// OneWay: the SSLContext shape. Server chain from StringIO, key from a
// CallableReader; the client trusts the root from a CallableReader and checks
// the hostname in the handshake.
void OneWay(ChildReporter& out, const TestPki& pki, ssl::TLSVersion version) {
  auto server_ctx = ssl::SSLContext::Create(ssl::PROTOCOL_TLS_SERVER);
  auto client_ctx = ssl::SSLContext::Create(ssl::PROTOCOL_TLS_CLIENT);
  if (!server_ctx.ok() || !client_ctx.ok()) return out.Report("one_way.setup", "Create failed");
  absl::Status st = (*server_ctx)
                        ->load_cert_chain(ssl::StringIO(pki.ServerChainPem()),
                                          Callable("server key", pki.server.KeyPem()));
  if (st.ok()) st = (*server_ctx)->set_maximum_version(version);
  if (st.ok()) {
    st = (*client_ctx)->load_verify_locations({.cafile = Callable("root", pki.RootPem())});
  }
  out.ReportStatus("one_way.setup", st);
  if (!st.ok()) return;
  auto wrap = [](const std::shared_ptr<ssl::SSLContext>& ctx, ssl::WrapOptions opts) {
    return [ctx, opts](int fd) -> absl::StatusOr<std::unique_ptr<ssl::SSLSocket>> {
      ssl::WrapOptions o = opts;
      o.do_handshake_on_connect = false;
      absl::StatusOr<std::unique_ptr<ssl::SSLSocket>> s = ctx->wrap_socket(fd, o);
      if (!s.ok()) return s;
      absl::Status st = (*s)->settimeout(absl::Seconds(10));
      if (st.ok()) st = (*s)->do_handshake();
      if (!st.ok()) return st;
      return s;
    };
  };
  auto [server, client] = Connect(wrap(*server_ctx, {.server_side = true}),
                                  wrap(*client_ctx, {.server_hostname = "localhost"}));
  ReportSide(out, "one_way.server", server);
  ReportSide(out, "one_way.client", client);
}

// Mutual: the App Engine shape, module-level wrap_socket with keyword
// arguments. Both keys are encrypted: the server's with a password string,
// the client's with a password callback.
ssl::WrapSocketArgs MutualServerArgs(const TestPki& pki, ssl::Protocol protocol) {
  return {.keyfile = ssl::StringIO(pki.server.KeyPemEncrypted(kServerKeyPassword)),
          .certfile = Callable("server chain", pki.ServerChainPem()),
          .server_side = true,
          .cert_reqs = ssl::CERT_REQUIRED,
          .ssl_version = protocol,
          .ca_certs = ssl::StringIO(pki.RootPem()),
          .password = ssl::Password::Of(kServerKeyPassword)};
}

ssl::WrapSocketArgs MutualClientArgs(const TestPki& pki, ssl::Protocol protocol) {
  return {.keyfile = Callable("client key", pki.client.KeyPemEncrypted(kClientKeyPassword)),
          .certfile = ssl::StringIO(pki.ClientChainPem()),
          .cert_reqs = ssl::CERT_REQUIRED,
          .ssl_version = protocol,
          .ca_certs = Callable("root", pki.RootPem()),
          .server_hostname = "localhost",
          .password = ssl::Password::From(
              []() -> absl::StatusOr<std::string> { return std::string(kClientKeyPassword); })};
}

Wrapper ModuleWrap(ssl::WrapSocketArgs args) {
  return [args](int fd) { return ssl::wrap_socket(fd, args); };
}

void Mutual(ChildReporter& out, const TestPki& pki, ssl::Protocol protocol) {
  auto [server, client] = Connect(ModuleWrap(MutualServerArgs(pki, protocol)),
                                  ModuleWrap(MutualClientArgs(pki, protocol)));
  ReportSide(out, "mutual.server", server);
  ReportSide(out, "mutual.client", client);
  // wrap_socket does not check the name itself; match_hostname does, on the
  // getpeercert() structure, as in the App Engine example.
  ssl::WrapSocketArgs args = MutualClientArgs(pki, protocol);
  absl::StatusOr<sslshim::testing::TcpPair> pair = sslshim::testing::MakeTcpPair();
  if (!pair.ok()) return out.ReportStatus("mutual.match_hostname", pair.status());
  std::thread t(
      [&] { ssl::wrap_socket(pair->server, MutualServerArgs(pki, protocol)).IgnoreError(); });
  absl::StatusOr<std::unique_ptr<ssl::SSLSocket>> sock = ssl::wrap_socket(pair->client, args);
  t.join();
  if (!sock.ok()) return out.ReportStatus("mutual.match_hostname", sock.status());
  absl::StatusOr<ssl::PyValue> cert = (*sock)->getpeercert();
  if (!cert.ok()) return out.ReportStatus("mutual.match_hostname", cert.status());
  out.ReportStatus("mutual.match_hostname", ssl::match_hostname(*cert, "localhost"));
  out.ReportStatus("mutual.match_wrong_host", ssl::match_hostname(*cert, "a.hostname.com"));
}

// Refused: the same mutual server, and a client that has no certificate.
void Refused(ChildReporter& out, const TestPki& pki, ssl::Protocol protocol) {
  ssl::WrapSocketArgs client = MutualClientArgs(pki, protocol);
  client.keyfile = {};
  client.certfile = {};
  client.password = {};
  auto [server, unused] = Connect(ModuleWrap(MutualServerArgs(pki, protocol)), ModuleWrap(client));
  ReportSide(out, "refused.server", server);
}

// ExpectExchanged asserts that both ends of connection `prefix` completed
// the handshake at `version`, exchanged "ping" / "pong:ping", and that the
// client verified the server as "localhost".
void ExpectExchanged(const ChildResult& r, const std::string& prefix, const std::string& version) {
  for (const char* side : {".server", ".client"}) {
    EXPECT_EQ(r.Get(prefix + side + ".status"), "OK") << prefix << side;
    EXPECT_EQ(r.Get(prefix + side + ".version"), version) << prefix << side;
  }
  EXPECT_EQ(r.Get(prefix + ".server.received"), "ping") << prefix;
  EXPECT_EQ(r.Get(prefix + ".client.received"), "pong:ping") << prefix;
  EXPECT_EQ(r.Get(prefix + ".client.peer_cn"), "localhost") << prefix;
}

TEST_P(NoWriteTlsTest, OneWayAndMutualTlsUnderTheSandbox) {
  const std::string dir = FreshTempDir();
  const ssl::Protocol protocol =
      version() == ssl::TLSVersion::TLSv1_2 ? ssl::PROTOCOL_TLSv1_2 : ssl::PROTOCOL_SSLv23;
  const KeyType type = key_type();
  const ssl::TLSVersion pinned = version();
  ChildResult r = RunInForkedChild(
      [&](ChildReporter& out) {
        // Only memory from here on: the PKI, then the sandbox, then TLS.
        TestPki pki = TestPki::Make(type);
        absl::Status st = InstallNoWriteSandbox();
        out.ReportStatus("install", st);
        if (!st.ok()) return;
        out.Report("probe.before",
                   Outcome(open((dir + "/probe").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644)));
        OneWay(out, pki, pinned);
        Mutual(out, pki, protocol);
        Refused(out, pki, protocol);
        out.Report("probe.after",
                   Outcome(open((dir + "/probe2").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600)));
        out.Report("sandboxed", runtime::NoWriteSandboxInstalled() ? "yes" : "no");
      },
      absl::Seconds(120));
  ASSERT_TRUE(r.status.ok()) << r.status;

  // The sandbox was on for the whole run, in this very process.
  EXPECT_EQ(r.Get("install"), "OK");
  EXPECT_EQ(r.Get("probe.before"), "EPERM");
  EXPECT_EQ(r.Get("probe.after"), "EPERM");
  EXPECT_EQ(r.Get("sandboxed"), "yes");
  EXPECT_THAT(ListDir(dir), IsEmpty());

  // One-way: only the server shows a certificate; the client sent none.
  EXPECT_EQ(r.Get("one_way.setup"), "OK");
  ExpectExchanged(r, "one_way", version_name());
  EXPECT_THAT(r.Get("one_way.client.peer"), HasSubstr("'subjectAltName': (('DNS', 'localhost')"));
  EXPECT_EQ(r.Get("one_way.server.peer"), "None");

  // Mutual: each side verified the other's chain.
  ExpectExchanged(r, "mutual", version_name());
  EXPECT_EQ(r.Get("mutual.server.peer_cn"), "client.test");
  EXPECT_THAT(r.Get("mutual.server.peer"), HasSubstr("'email'"));
  EXPECT_EQ(r.Get("mutual.match_hostname"), "OK");
  EXPECT_THAT(r.Get("mutual.match_wrong_host"), HasSubstr("a.hostname.com"));

  // Mutual without a client certificate is refused by the server.
  EXPECT_NE(r.Get("refused.server.status"), "OK");
  EXPECT_EQ(r.Get("refused.server.kind"), "SSLError");
}

INSTANTIATE_TEST_SUITE_P(KeysAndVersions, NoWriteTlsTest,
                         ::testing::Combine(::testing::Values(KeyType::kP256, KeyType::kRsa2048),
                                            ::testing::Values(ssl::TLSVersion::TLSv1_2,
                                                              ssl::TLSVersion::TLSv1_3)),
                         [](const ::testing::TestParamInfo<NoWriteTlsTest::ParamType>& info) {
                           return absl::StrCat(
                               sslshim::testing::KeyTypeName(std::get<0>(info.param)),
                               std::get<1>(info.param) == ssl::TLSVersion::TLSv1_3 ? "_TLSv1_3"
                                                                                   : "_TLSv1_2");
                         });

}  // namespace
}  // namespace sslshim
