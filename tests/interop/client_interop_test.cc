// Our client (the facade, credentials from StringIO readers) against real
// servers over loopback TCP: `openssl s_server -rev` and a Python `ssl`
// server, one-way and mutual (the server demands CERT_REQUIRED), TLS 1.2 and
// 1.3, ECDSA and RSA, and the failing cases with the error each side reports.

#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "openssl/x509.h"
#include "shim/ssl.h"
#include "testing/cert_builder.h"
#include "testing/fd_count.h"
#include "testing/status_matchers.h"
#include "tests/interop/interop_util.h"
#include "tests/interop/subprocess.h"

namespace sslshim::interop {
namespace {

namespace ssl = ::sslshim::ssl;
using ::sslshim::testing::KeyType;
using ::testing::ContainsRegex;
using ::testing::HasSubstr;

constexpr char kPayload[] = "hello-from-sslshim";

enum class PeerServer { kOpenssl, kPython };

std::string PeerName(PeerServer peer) {
  return peer == PeerServer::kOpenssl ? "OpensslServer" : "PythonServer";
}

// What the peer server presents and demands.
struct ServerSetup {
  const Identity* identity;
  bool require_client_cert;
  ssl::TLSVersion version;
};

// A running peer server and the port it listens on.
struct RunningServer {
  std::unique_ptr<Subprocess> process;
  int port = -1;
};

absl::StatusOr<RunningServer> StartServer(PeerServer peer, const InteropPki& pki,
                                          const ServerSetup& setup) {
  const bool tls13 = setup.version == ssl::TLSVersion::TLSv1_3;
  std::vector<std::string> argv;
  std::string marker;
  if (peer == PeerServer::kOpenssl) {
    argv = {kOpenssl, "s_server", "-accept", "127.0.0.1:0", "-naccept", "1",
            "-rev", "-cert", setup.identity->leaf_path, "-cert_chain",
            setup.identity->intermediate_path, "-key", setup.identity->key_path,
            tls13 ? "-tls1_3" : "-tls1_2"};
    if (setup.require_client_cert) {
      for (const char* a : {"-Verify", "1", "-verify_return_error", "-CAfile"}) {
        argv.push_back(a);
      }
      argv.push_back(pki.root_path);
    }
    marker = "ACCEPT 127.0.0.1:";
  } else {
    std::string json = absl::StrCat(
        "{\"cert\": ", JsonString(setup.identity->chain_path),
        ", \"key\": ", JsonString(setup.identity->key_path),
        ", \"max\": ", tls13 ? "\"TLSv1_3\"" : "\"TLSv1_2\"");
    if (setup.require_client_cert) {
      absl::StrAppend(&json, ", \"cafile\": ", JsonString(pki.root_path));
    }
    argv = PythonServerArgv(json + "}");
    marker = "PORT ";
  }
  absl::StatusOr<std::unique_ptr<Subprocess>> p = Subprocess::Start(argv);
  if (!p.ok()) return p.status();
  absl::StatusOr<std::string> out = (*p)->WaitForOutput(marker);
  if (out.ok()) out = (*p)->WaitForOutput(absl::StrCat(marker, ParsePort(*out, marker), "\n"));
  if (!out.ok()) return out.status();
  RunningServer server{std::move(*p), ParsePort(*out, marker)};
  return server;
}

// What our client saw.
struct ClientOutcome {
  absl::Status status;  // First failure (handshake or I/O).
  std::string version;
  std::string server_cn;
  std::string reply;
};

// RunClient connects to `port`, handshakes with `ctx` (10 s timeout on every
// operation), sends one line and reads one line back.
ClientOutcome RunClient(const std::shared_ptr<ssl::SSLContext>& ctx, int port,
                        const std::string& hostname) {
  ClientOutcome out;
  int fd = ConnectWithRetry(port);
  if (fd < 0) {
    out.status = absl::UnavailableError("connect failed");
    return out;
  }
  absl::StatusOr<std::unique_ptr<ssl::SSLSocket>> s = ctx->wrap_socket(
      fd, {.do_handshake_on_connect = false, .server_hostname = hostname});
  if (!s.ok()) {
    out.status = s.status();
    return out;
  }
  out.status = (*s)->settimeout(absl::Seconds(10));
  if (out.status.ok()) out.status = (*s)->do_handshake();
  if (!out.status.ok()) return out;
  out.version = (*s)->version().value_or("");
  absl::StatusOr<ssl::PyValue> peer = (*s)->getpeercert();
  if (peer.ok()) out.server_cn = SubjectCommonName(*peer);
  out.status = (*s)->sendall(absl::StrCat(kPayload, "\n"));
  if (out.status.ok()) out.status = ReadLine(**s, &out.reply);
  return out;
}

// OneWayContext: PROTOCOL_TLS_CLIENT (verifies, checks the hostname) trusting
// `root_pem`, with an optional client identity, all through StringIO.
std::shared_ptr<ssl::SSLContext> ClientContext(const std::string& root_pem,
                                               const Identity* identity) {
  auto ctx = ssl::SSLContext::Create(ssl::PROTOCOL_TLS_CLIENT);
  EXPECT_OK(ctx);
  if (!ctx.ok()) return nullptr;
  EXPECT_OK((*ctx)->load_verify_locations({.cafile = ssl::StringIO(root_pem)}));
  if (identity != nullptr) {
    EXPECT_OK((*ctx)->load_cert_chain(ssl::StringIO(identity->chain_pem),
                                      ssl::StringIO(identity->key_pem)));
  }
  return *ctx;
}

// ----------------------------------------------------------------------------
// Successful handshakes: peer x version x key x one-way/mutual.

using SuccessParam = std::tuple<PeerServer, ssl::TLSVersion, KeyType, bool>;

class ClientInteropTest : public ::testing::TestWithParam<SuccessParam> {};

TEST_P(ClientInteropTest, HandshakeAndEchoBothWays) {
  const auto [peer, version, key, mutual] = GetParam();
  const InteropPki& pki = GetPki(key);
  std::shared_ptr<ssl::SSLContext> ctx;
  if (mutual) {
    // Mutual TLS the App Engine way: module-level wrap_socket arguments, with
    // StringIO readers, then match_hostname on the verified peer cert.
    ASSERT_OK_AND_ASSIGN(
        ctx, ssl::MakeWrapContext({.keyfile = ssl::StringIO(pki.client.key_pem),
                                   .certfile = ssl::StringIO(pki.client.chain_pem),
                                   .cert_reqs = ssl::CERT_REQUIRED,
                                   .ssl_version = ssl::PROTOCOL_SSLv23,
                                   .ca_certs = ssl::StringIO(pki.root_pem)}));
  } else {
    ctx = ClientContext(pki.root_pem, nullptr);
  }
  ASSERT_NE(ctx, nullptr);
  const int fds = sslshim::testing::OpenFdCount();
  ASSERT_OK_AND_ASSIGN(RunningServer server,
                       StartServer(peer, pki, {&pki.server, mutual, version}));
  ClientOutcome ours = RunClient(ctx, server.port, "localhost");
  SubprocessResult theirs = server.process->Wait();
  server.process.reset();

  ASSERT_OK(ours.status) << "peer stdout:\n" << theirs.out << "\nstderr:\n" << theirs.err;
  EXPECT_EQ(ours.version, VersionName(version));
  EXPECT_EQ(ours.server_cn, "localhost");
  EXPECT_EQ(theirs.exit_code, 0) << theirs.err;
  if (peer == PeerServer::kOpenssl) {
    EXPECT_EQ(ours.reply, "mihslss-morf-olleh\n");  // -rev reverses the line.
    EXPECT_THAT(theirs.err, HasSubstr("CONNECTION ESTABLISHED"));
    EXPECT_THAT(theirs.err, HasSubstr("Protocol version: " + VersionName(version)));
    if (mutual) {
      EXPECT_THAT(theirs.err, HasSubstr("Peer certificate: CN = client.test"));
      EXPECT_THAT(theirs.err, HasSubstr("Verification: OK"));
    }
  } else {
    EXPECT_EQ(ours.reply, absl::StrCat("echo:", kPayload, "\n"));
    EXPECT_THAT(theirs.out, HasSubstr("VERSION " + VersionName(version)));
    EXPECT_THAT(theirs.out, HasSubstr(mutual ? "PEER [[[\"commonName\", \"client.test\"]]]"
                                             : "PEER null"));
    EXPECT_THAT(theirs.out, HasSubstr(absl::StrCat("GOT ", kPayload)));
  }
  EXPECT_EQ(sslshim::testing::OpenFdCount(), fds);
}

std::string SuccessName(const ::testing::TestParamInfo<SuccessParam>& info) {
  const auto [peer, version, key, mutual] = info.param;
  return absl::StrCat(PeerName(peer),
                      "_", VersionTag(version), "_",
                      sslshim::testing::KeyTypeName(key),
                      mutual ? "_Mutual" : "_OneWay");
}

INSTANTIATE_TEST_SUITE_P(
    Matrix, ClientInteropTest,
    ::testing::Combine(::testing::Values(PeerServer::kOpenssl, PeerServer::kPython),
                       ::testing::Values(ssl::TLSVersion::TLSv1_3,
                                         ssl::TLSVersion::TLSv1_2),
                       ::testing::Values(KeyType::kP256, KeyType::kRsa2048),
                       ::testing::Bool()),
    SuccessName);

// ----------------------------------------------------------------------------
// Failing cases: what goes wrong, and what each side must report.

struct FailureCase {
  const char* name;
  Presented server_cert;
  Presented client_cert;  // kNone: our client sends no certificate.
  bool require_client_cert;
  const char* hostname;
  // Our client's error: kind, verify code (0: none attached), message regex.
  ssl::ErrorKind our_kind;
  long our_verify_code;
  const char* our_message;
  // Regexes the peer must print (openssl: stderr; python: stdout).
  const char* openssl_says;
  const char* python_says;
};

void PrintTo(const FailureCase& c, std::ostream* os) { *os << c.name; }

const FailureCase kFailures[] = {
    {"NoClientCertificate", Presented::kGood, Presented::kNone, true, "localhost",
     ssl::ErrorKind::kSSLError, 0, "ALERT_CERTIFICATE_REQUIRED|ALERT_HANDSHAKE_FAILURE",
     "peer did not return a certificate",
     "ERROR SSLError - .*PEER_DID_NOT_RETURN_A_CERTIFICATE"},
    {"UntrustedServerCa", Presented::kUntrusted, Presented::kNone, false, "localhost",
     ssl::ErrorKind::kSSLCertVerificationError,
     X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY,
     "CERTIFICATE_VERIFY_FAILED\\] certificate verify failed: unable to get "
     "local issuer certificate",
     "alert unknown ca", "ERROR SSLError - .*ALERT_UNKNOWN_CA"},
    {"WrongHostname", Presented::kGood, Presented::kNone, false, "wrong.example",
     ssl::ErrorKind::kSSLCertVerificationError, X509_V_ERR_HOSTNAME_MISMATCH,
     "Hostname mismatch, certificate is not valid for 'wrong.example'",
     "alert bad certificate", "ERROR SSLError - .*ALERT_BAD_CERTIFICATE"},
    {"ExpiredServerCertificate", Presented::kExpired, Presented::kNone, false,
     "localhost", ssl::ErrorKind::kSSLCertVerificationError,
     X509_V_ERR_CERT_HAS_EXPIRED, "certificate verify failed: certificate has expired",
     "alert certificate expired", "ERROR SSLError - .*ALERT_CERTIFICATE_EXPIRED"},
    {"ExpiredClientCertificate", Presented::kGood, Presented::kExpired, true,
     "localhost", ssl::ErrorKind::kSSLError, 0, "ALERT_CERTIFICATE_EXPIRED",
     "certificate has expired", "ERROR SSLCertVerificationError 10 .*certificate has expired"},
    {"UntrustedClientCa", Presented::kGood, Presented::kUntrusted, true,
     "localhost", ssl::ErrorKind::kSSLError, 0, "ALERT_UNKNOWN_CA",
     "unable to get local issuer certificate",
     "ERROR SSLCertVerificationError 20 .*unable to get local issuer certificate"},
};

using FailureParam = std::tuple<PeerServer, ssl::TLSVersion, FailureCase>;

class ClientInteropFailureTest : public ::testing::TestWithParam<FailureParam> {};

TEST_P(ClientInteropFailureTest, BothSidesReportTheError) {
  const auto [peer, version, c] = GetParam();
  const InteropPki& pki = GetPki(KeyType::kP256);
  std::shared_ptr<ssl::SSLContext> ctx =
      ClientContext(pki.root_pem, Pick(pki, c.client_cert, /*server=*/false));
  ASSERT_NE(ctx, nullptr);
  const int fds = sslshim::testing::OpenFdCount();
  ASSERT_OK_AND_ASSIGN(
      RunningServer server,
      StartServer(peer, pki,
                  {Pick(pki, c.server_cert, /*server=*/true), c.require_client_cert,
                   version}));
  ClientOutcome ours = RunClient(ctx, server.port, c.hostname);
  SubprocessResult theirs = server.process->Wait();
  server.process.reset();

  SCOPED_TRACE(absl::StrCat("ours: ", ours.status.ToString(), "\npeer stdout:\n",
                            theirs.out, "\npeer stderr:\n", theirs.err));
  EXPECT_FALSE(ours.status.ok());
  EXPECT_EQ(ssl::GetErrorKind(ours.status), c.our_kind);
  if (c.our_verify_code != 0) {
    EXPECT_EQ(ssl::GetVerifyCode(ours.status), absl::optional<long>(c.our_verify_code));
    EXPECT_EQ(ours.status.code(), absl::StatusCode::kUnauthenticated);
  }
  EXPECT_THAT(std::string(ours.status.message()), ContainsRegex(c.our_message));
  EXPECT_FALSE(theirs.timed_out);
  if (peer == PeerServer::kOpenssl) {
    EXPECT_THAT(theirs.err, ContainsRegex(c.openssl_says));
  } else {
    EXPECT_EQ(theirs.exit_code, 1);
    EXPECT_THAT(theirs.out, ContainsRegex(c.python_says));
  }
  EXPECT_EQ(sslshim::testing::OpenFdCount(), fds);
}

std::string FailureName(const ::testing::TestParamInfo<FailureParam>& info) {
  const auto& [peer, version, c] = info.param;
  return absl::StrCat(PeerName(peer),
                      "_", VersionTag(version), "_",
                      c.name);
}

INSTANTIATE_TEST_SUITE_P(
    Failures, ClientInteropFailureTest,
    ::testing::Combine(::testing::Values(PeerServer::kOpenssl, PeerServer::kPython),
                       ::testing::Values(ssl::TLSVersion::TLSv1_3,
                                         ssl::TLSVersion::TLSv1_2),
                       ::testing::ValuesIn(kFailures)),
    FailureName);

}  // namespace
}  // namespace sslshim::interop
