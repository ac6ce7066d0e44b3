// Our server (the facade, credentials from StringIO readers) against real
// clients over loopback TCP: `openssl s_client`, `bssl-tool s_client` and
// Python `ssl` clients, one-way and mutual (CERT_REQUIRED), TLS 1.2 and 1.3,
// ECDSA and RSA, and the failing cases with the error each side reports.

#include <poll.h>

#include <string>
#include <thread>
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
#include "testing/socket_pair.h"
#include "testing/status_matchers.h"
#include "tests/interop/interop_util.h"
#include "tests/interop/subprocess.h"

namespace sslshim::interop {
namespace {

namespace ssl = ::sslshim::ssl;
using ::sslshim::testing::KeyType;
using ::testing::ContainsRegex;
using ::testing::HasSubstr;

enum class PeerClient { kOpenssl, kBssl, kPython };

std::string PeerName(PeerClient peer) {
  switch (peer) {
    case PeerClient::kOpenssl:
      return "OpensslClient";
    case PeerClient::kBssl:
      return "BsslClient";
    case PeerClient::kPython:
      return "PythonClient";
  }
  return "";
}

// What the peer client trusts, checks and presents.
struct ClientSetup {
  std::string ca_path;
  std::string hostname;
  const Identity* identity;  // nullptr: no client certificate.
  ssl::TLSVersion version;
};

// The line each peer sends; our server answers "echo:" + line.
std::string PeerLine(PeerClient peer) {
  return peer == PeerClient::kPython ? "hello-from-python"
                                     : absl::StrCat("hello-from-", PeerName(peer));
}

std::vector<std::string> PeerArgv(PeerClient peer, int port, const ClientSetup& c) {
  const bool tls13 = c.version == ssl::TLSVersion::TLSv1_3;
  const std::string addr = absl::StrCat("127.0.0.1:", port);
  std::vector<std::string> argv;
  switch (peer) {
    case PeerClient::kOpenssl:
      argv = {kOpenssl, "s_client", "-connect", addr, "-CAfile", c.ca_path,
              "-verify_return_error", "-verify_hostname", c.hostname,
              "-servername", c.hostname, tls13 ? "-tls1_3" : "-tls1_2"};
      if (c.identity != nullptr) {
        argv.insert(argv.end(), {"-cert", c.identity->leaf_path, "-cert_chain",
                                 c.identity->intermediate_path, "-key",
                                 c.identity->key_path});
      }
      return argv;
    case PeerClient::kBssl: {
      const char* v = tls13 ? "tls1.3" : "tls1.2";
      argv = {kBsslTool, "s_client", "-connect", addr, "-root-certs", c.ca_path,
              "-server-name", c.hostname, "-min-version", v, "-max-version", v};
      if (c.identity != nullptr) {
        argv.insert(argv.end(), {"-cert", c.identity->chain_path, "-key",
                                 c.identity->key_path});
      }
      return argv;
    }
    case PeerClient::kPython: {
      std::string json = absl::StrCat(
          "{\"port\": ", port, ", \"cafile\": ", JsonString(c.ca_path),
          ", \"hostname\": ", JsonString(c.hostname),
          ", \"max\": ", tls13 ? "\"TLSv1_3\"" : "\"TLSv1_2\"");
      if (c.identity != nullptr) {
        absl::StrAppend(&json, ", \"cert\": ", JsonString(c.identity->chain_path),
                        ", \"key\": ", JsonString(c.identity->key_path));
      }
      return PythonClientArgv(json + "}");
    }
  }
  return argv;
}

// What our server saw.
struct ServerOutcome {
  absl::Status status;  // First failure (accept, handshake or I/O).
  std::string version;
  absl::optional<ssl::PyValue> peer_cert;
  std::string line;  // The line the client sent.
};

// ServeOne accepts one connection on `listener` (waiting up to 10 s), wraps
// it with `ctx`, reads one line and echoes it prefixed with "echo:", then
// waits (briefly) for the client to close.
ServerOutcome ServeOne(const sslshim::testing::Listener& listener,
                       const std::shared_ptr<ssl::SSLContext>& ctx) {
  ServerOutcome out;
  pollfd pfd{listener.fd(), POLLIN, 0};
  if (poll(&pfd, 1, 10000) != 1) {
    out.status = absl::DeadlineExceededError("no client connected");
    return out;
  }
  int fd = listener.Accept();
  if (fd < 0) {
    out.status = absl::UnavailableError("accept failed");
    return out;
  }
  absl::StatusOr<std::unique_ptr<ssl::SSLSocket>> s =
      ctx->wrap_socket(fd, {.server_side = true, .do_handshake_on_connect = false});
  if (!s.ok()) {
    out.status = s.status();
    return out;
  }
  out.status = (*s)->settimeout(absl::Seconds(10));
  if (out.status.ok()) out.status = (*s)->do_handshake();
  if (!out.status.ok()) return out;
  out.version = (*s)->version().value_or("");
  absl::StatusOr<ssl::PyValue> peer = (*s)->getpeercert();
  if (peer.ok()) out.peer_cert = *peer;
  out.status = ReadLine(**s, &out.line);
  if (!out.status.ok()) return out;
  out.status = (*s)->sendall("echo:" + out.line);
  // Let the client read the echo and close first, so that closing here
  // cannot reset the connection under the echo. Its outcome is not checked.
  if (out.status.ok() && (*s)->settimeout(absl::Seconds(5)).ok()) {
    (void)(*s)->recv(4096);
  }
  return out;
}

// Conversation is one run: our server in a thread, the peer as a process.
struct Conversation {
  ServerOutcome ours;
  SubprocessResult theirs;
  bool peer_got_echo = false;
};

Conversation Converse(PeerClient peer, const std::shared_ptr<ssl::SSLContext>& ctx,
                      const ClientSetup& setup) {
  Conversation conv;
  absl::StatusOr<sslshim::testing::Listener> listener =
      sslshim::testing::Listener::Create();
  if (!listener.ok()) {
    conv.ours.status = listener.status();
    return conv;
  }
  std::thread server([&] { conv.ours = ServeOne(*listener, ctx); });
  const std::string line = PeerLine(peer);
  // openssl and bssl-tool send their stdin and stop at its EOF: keep it open
  // until the echo arrives. The Python client sends its own line.
  absl::StatusOr<std::unique_ptr<Subprocess>> p = Subprocess::Start(
      PeerArgv(peer, listener->port(), setup),
      peer == PeerClient::kPython ? "" : line + "\n", absl::Seconds(15),
      /*keep_stdin_open=*/peer != PeerClient::kPython);
  if (p.ok()) {
    const std::string echo =
        peer == PeerClient::kPython ? "GOT echo:" + line : "echo:" + line;
    conv.peer_got_echo = (*p)->WaitForOutput(echo).ok();
    (*p)->CloseStdin();
    conv.theirs = (*p)->Wait();
  } else {
    conv.theirs.err = p.status().ToString();
  }
  if (!p.ok() || !conv.peer_got_echo) {
    // The server may still be waiting for a client that never came or a
    // line that never will: poke it so the thread ends.
    int fd = sslshim::testing::ConnectTcp(listener->port());
    if (fd >= 0) close(fd);
  }
  server.join();
  return conv;
}

std::shared_ptr<ssl::SSLContext> ServerContext(const Identity& identity,
                                               const std::string* client_ca_pem) {
  auto ctx = ssl::SSLContext::Create(ssl::PROTOCOL_TLS_SERVER);
  EXPECT_OK(ctx);
  if (!ctx.ok()) return nullptr;
  EXPECT_OK((*ctx)->load_cert_chain(ssl::StringIO(identity.chain_pem),
                                    ssl::StringIO(identity.key_pem)));
  if (client_ca_pem != nullptr) {
    EXPECT_OK((*ctx)->load_verify_locations({.cadata = *client_ca_pem}));
    EXPECT_OK((*ctx)->set_verify_mode(ssl::CERT_REQUIRED));
  }
  return *ctx;
}

// ----------------------------------------------------------------------------
// Successful handshakes: peer x version x key x one-way/mutual.

using SuccessParam = std::tuple<PeerClient, ssl::TLSVersion, KeyType, bool>;

class ServerInteropTest : public ::testing::TestWithParam<SuccessParam> {};

TEST_P(ServerInteropTest, HandshakeAndEchoBothWays) {
  const auto [peer, version, key, mutual] = GetParam();
  const InteropPki& pki = GetPki(key);
  std::shared_ptr<ssl::SSLContext> ctx =
      ServerContext(pki.server, mutual ? &pki.root_pem : nullptr);
  ASSERT_NE(ctx, nullptr);
  const int fds = sslshim::testing::OpenFdCount();
  Conversation conv = Converse(
      peer, ctx, {pki.root_path, "localhost", mutual ? &pki.client : nullptr, version});
  const SubprocessResult& theirs = conv.theirs;
  SCOPED_TRACE(absl::StrCat("peer stdout:\n", theirs.out, "\npeer stderr:\n", theirs.err));

  ASSERT_OK(conv.ours.status);
  EXPECT_TRUE(conv.peer_got_echo);
  EXPECT_EQ(conv.ours.version, VersionName(version));
  EXPECT_EQ(conv.ours.line, PeerLine(peer) + "\n");
  ASSERT_TRUE(conv.ours.peer_cert.has_value());
  if (mutual) {
    EXPECT_EQ(SubjectCommonName(*conv.ours.peer_cert), "client.test");
    EXPECT_OK(ssl::match_hostname(*conv.ours.peer_cert, "client.test"));
  } else {
    EXPECT_TRUE(conv.ours.peer_cert->is_none());
  }
  EXPECT_FALSE(theirs.timed_out);
  switch (peer) {
    case PeerClient::kOpenssl:
      EXPECT_EQ(theirs.exit_code, 0);
      EXPECT_THAT(theirs.out, HasSubstr("Verify return code: 0 (ok)"));
      EXPECT_THAT(theirs.out, HasSubstr("subject=CN = localhost"));
      EXPECT_THAT(theirs.out, HasSubstr("New, " + VersionName(version) + ", Cipher is"));
      break;
    case PeerClient::kBssl:
      // bssl-tool exits nonzero at the close that follows; the handshake
      // report and the echo are what count.
      EXPECT_THAT(theirs.err, HasSubstr("Version: " + VersionName(version)));
      EXPECT_THAT(theirs.err, HasSubstr("Cert subject: CN = localhost"));
      break;
    case PeerClient::kPython:
      EXPECT_EQ(theirs.exit_code, 0);
      EXPECT_THAT(theirs.out, HasSubstr("VERSION " + VersionName(version)));
      EXPECT_THAT(theirs.out, HasSubstr("PEER [[[\"commonName\", \"localhost\"]]]"));
      break;
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
    Matrix, ServerInteropTest,
    ::testing::Combine(::testing::Values(PeerClient::kOpenssl, PeerClient::kBssl,
                                         PeerClient::kPython),
                       ::testing::Values(ssl::TLSVersion::TLSv1_3,
                                         ssl::TLSVersion::TLSv1_2),
                       ::testing::Values(KeyType::kP256, KeyType::kRsa2048),
                       ::testing::Bool()),
    SuccessName);

// ----------------------------------------------------------------------------
// Failing cases.

struct FailureCase {
  const char* name;
  Presented server_cert;
  Presented client_cert;
  bool require_client_cert;
  bool client_trusts_other_ca;
  const char* hostname;
  // Our server's error: kind, verify code (0: none), message regex.
  ssl::ErrorKind our_kind;
  long our_verify_code;
  const char* our_message;
  // What each peer must print (openssl: stdout+stderr; bssl: stderr;
  // python: stdout). nullptr: the peer cannot observe this case.
  const char* openssl_says;
  const char* bssl_says;
  const char* python_says;
};

void PrintTo(const FailureCase& c, std::ostream* os) { *os << c.name; }

const FailureCase kFailures[] = {
    {"NoClientCertificate", Presented::kGood, Presented::kNone, true, false,
     "localhost", ssl::ErrorKind::kSSLError, 0, "PEER_DID_NOT_RETURN_A_CERTIFICATE",
     "tlsv13 alert certificate required|sslv3 alert handshake failure",
     "ALERT_CERTIFICATE_REQUIRED|ALERT_HANDSHAKE_FAILURE",
     "ERROR SSLError - .*(ALERT_CERTIFICATE_REQUIRED|ALERT_HANDSHAKE_FAILURE)"},
    {"UntrustedServerCa", Presented::kGood, Presented::kNone, false, true,
     "localhost", ssl::ErrorKind::kSSLError, 0, "ALERT_UNKNOWN_CA",
     "verify error:num=20:unable to get local issuer certificate",
     "Error while connecting: CERTIFICATE_VERIFY_FAILED",
     "ERROR SSLCertVerificationError 20 .*unable to get local issuer certificate"},
    {"WrongHostname", Presented::kGood, Presented::kNone, false, false,
     "wrong.example", ssl::ErrorKind::kSSLError, 0, "ALERT_BAD_CERTIFICATE",
     "verify error:num=62:hostname mismatch", nullptr,  // bssl-tool checks no name.
     "ERROR SSLCertVerificationError 62 .*Hostname mismatch, certificate is "
     "not valid for 'wrong.example'"},
    {"ExpiredServerCertificate", Presented::kExpired, Presented::kNone, false,
     false, "localhost", ssl::ErrorKind::kSSLError, 0, "ALERT_CERTIFICATE_EXPIRED",
     "verify error:num=10:certificate has expired",
     "Error while connecting: CERTIFICATE_VERIFY_FAILED",
     "ERROR SSLCertVerificationError 10 .*certificate has expired"},
    {"ExpiredClientCertificate", Presented::kGood, Presented::kExpired, true,
     false, "localhost", ssl::ErrorKind::kSSLCertVerificationError,
     X509_V_ERR_CERT_HAS_EXPIRED, "certificate verify failed: certificate has expired",
     "alert certificate expired", "ALERT_CERTIFICATE_EXPIRED",
     "ERROR SSLError - .*ALERT_CERTIFICATE_EXPIRED"},
    {"UntrustedClientCa", Presented::kGood, Presented::kUntrusted, true, false,
     "localhost", ssl::ErrorKind::kSSLCertVerificationError,
     X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY,
     "certificate verify failed: unable to get local issuer certificate",
     "alert unknown ca", "ALERT_UNKNOWN_CA", "ERROR SSLError - .*ALERT_UNKNOWN_CA"},
};

// Two TLS 1.3 facts that change what one side can observe:
// - An OpenSSL client (s_client, Python) that rejects the server's
//   certificate sends its alert in plaintext, before it has handshake keys;
//   BoringSSL, expecting an encrypted record, reports BAD_PACKET_LENGTH.
// - A client whose certificate our server rejects has finished its side of
//   the handshake and may already have sent data; our close then resets the
//   connection and the client may see the reset instead of the alert.
std::string OurExpectedMessage(PeerClient peer, ssl::TLSVersion version,
                               const FailureCase& c) {
  const bool peer_rejects_us = c.our_verify_code == 0 && !c.require_client_cert;
  if (version == ssl::TLSVersion::TLSv1_3 && peer != PeerClient::kBssl &&
      peer_rejects_us) {
    return "BAD_PACKET_LENGTH";
  }
  return c.our_message;
}

std::string PeerExpectedOutput(PeerClient peer, ssl::TLSVersion version,
                               const FailureCase& c) {
  std::string says = peer == PeerClient::kOpenssl ? c.openssl_says
                     : peer == PeerClient::kBssl  ? c.bssl_says
                                                  : c.python_says;
  if (version == ssl::TLSVersion::TLSv1_3 && c.require_client_cert) {
    says += "|ERROR SSLEOFError|ERROR ConnectionResetError|Connection reset|"
            "unexpected eof|errno=104";
  }
  return says;
}

using FailureParam = std::tuple<PeerClient, ssl::TLSVersion, FailureCase>;

class ServerInteropFailureTest : public ::testing::TestWithParam<FailureParam> {};

TEST_P(ServerInteropFailureTest, BothSidesReportTheError) {
  const auto [peer, version, c] = GetParam();
  const InteropPki& pki = GetPki(KeyType::kP256);
  std::shared_ptr<ssl::SSLContext> ctx =
      ServerContext(*Pick(pki, c.server_cert, /*server=*/true),
                    c.require_client_cert ? &pki.root_pem : nullptr);
  ASSERT_NE(ctx, nullptr);
  const int fds = sslshim::testing::OpenFdCount();
  Conversation conv = Converse(
      peer, ctx,
      {c.client_trusts_other_ca ? pki.other_root_path : pki.root_path, c.hostname,
       Pick(pki, c.client_cert, /*server=*/false), version});
  const SubprocessResult& theirs = conv.theirs;
  SCOPED_TRACE(absl::StrCat("ours: ", conv.ours.status.ToString(), "\npeer stdout:\n",
                            theirs.out, "\npeer stderr:\n", theirs.err));

  EXPECT_FALSE(conv.ours.status.ok());
  EXPECT_EQ(ssl::GetErrorKind(conv.ours.status), c.our_kind);
  if (c.our_verify_code != 0) {
    EXPECT_EQ(ssl::GetVerifyCode(conv.ours.status),
              absl::optional<long>(c.our_verify_code));
  }
  EXPECT_THAT(std::string(conv.ours.status.message()),
              ContainsRegex(OurExpectedMessage(peer, version, c)));
  EXPECT_FALSE(conv.peer_got_echo);
  EXPECT_FALSE(theirs.timed_out);
  EXPECT_NE(theirs.exit_code, 0);
  EXPECT_THAT(peer == PeerClient::kBssl ? theirs.err : theirs.out + theirs.err,
              ContainsRegex(PeerExpectedOutput(peer, version, c)));
  EXPECT_EQ(sslshim::testing::OpenFdCount(), fds);
}

std::string FailureName(const ::testing::TestParamInfo<FailureParam>& info) {
  const auto& [peer, version, c] = info.param;
  return absl::StrCat(PeerName(peer),
                      "_", VersionTag(version), "_",
                      c.name);
}

// Every peer x version x case, except the cases a peer cannot observe
// (bssl-tool s_client does not check hostnames: no bssl_says).
std::vector<FailureParam> FailureMatrix() {
  std::vector<FailureParam> out;
  for (PeerClient peer : {PeerClient::kOpenssl, PeerClient::kBssl, PeerClient::kPython}) {
    for (ssl::TLSVersion version : {ssl::TLSVersion::TLSv1_3, ssl::TLSVersion::TLSv1_2}) {
      for (const FailureCase& c : kFailures) {
        if (peer == PeerClient::kBssl && c.bssl_says == nullptr) continue;
        out.emplace_back(peer, version, c);
      }
    }
  }
  return out;
}

INSTANTIATE_TEST_SUITE_P(Failures, ServerInteropFailureTest,
                         ::testing::ValuesIn(FailureMatrix()), FailureName);

}  // namespace
}  // namespace sslshim::interop
