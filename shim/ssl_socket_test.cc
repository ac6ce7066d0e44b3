// End-to-end tests of SSLSocket over real loopback TCP: client and server
// both from the facade, one-way and mutual, TLS 1.2 and 1.3, RSA, ECDSA and
// Ed25519, and every failure a peer can cause.

#include "shim/ssl_socket.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <thread>
#include <map>
#include <tuple>

#include "absl/strings/match.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "openssl/x509.h"
#include "shim/errors.h"
#include "shim/ssl.h"
#include "shim/tls_test_util.h"
#include "testing/cert_builder.h"
#include "testing/fd_count.h"
#include "testing/socket_pair.h"
#include "testing/status_matchers.h"

namespace sslshim::shim {
namespace {

using ::sslshim::testing::Issue;
using ::sslshim::testing::Issued;
using ::sslshim::testing::KeyType;
using ::sslshim::testing::TestPki;
using ::testing::HasSubstr;
using ::testing::Not;
using test::PingExpectEcho;
using test::RunTls;
using test::TlsRun;


struct Variant {
  TLSVersion version;
  KeyType key;
};

std::string VariantName(const ::testing::TestParamInfo<Variant>& info) {
  std::string v = info.param.version == TLSVersion::TLSv1_3 ? "TLS13" : "TLS12";
  switch (info.param.key) {
    case KeyType::kP256:
      return v + "_P256";
    case KeyType::kP384:
      return v + "_P384";
    case KeyType::kRsa2048:
      return v + "_RSA2048";
    case KeyType::kEd25519:
      return v + "_Ed25519";
  }
  return v;
}

class TlsVariantTest : public ::testing::TestWithParam<Variant> {
 protected:
  static const TestPki& Pki(KeyType key) {
    static auto* pkis = new std::map<KeyType, TestPki>();
    auto it = pkis->find(key);
    if (it == pkis->end()) it = pkis->emplace(key, TestPki::Make(key)).first;
    return it->second;
  }
  const TestPki& pki() const { return Pki(GetParam().key); }

  std::shared_ptr<SSLContext> Server() const {
    auto ctx = test::ServerContext(pki());
    EXPECT_NE(ctx, nullptr);
    EXPECT_OK(ctx->set_maximum_version(GetParam().version));
    return ctx;
  }
  std::shared_ptr<SSLContext> Client() const {
    auto ctx = test::ClientContext(pki());
    EXPECT_NE(ctx, nullptr);
    EXPECT_OK(ctx->set_maximum_version(GetParam().version));
    return ctx;
  }
  std::string ExpectedVersion() const {
    return GetParam().version == TLSVersion::TLSv1_3 ? "TLSv1.3" : "TLSv1.2";
  }
};

TEST_P(TlsVariantTest, OneWayHandshakeAndEcho) {
  const int fds_before = sslshim::testing::OpenFdCount();
  std::string client_version, server_cn_seen;
  PyValue server_view_of_client;
  TlsRun run = RunTls(
      Server(), Client(), {.server_hostname = "localhost"},
      [&](SSLSocket& s) -> absl::Status {
        absl::StatusOr<PyValue> peer = s.getpeercert();
        if (!peer.ok()) return peer.status();
        server_view_of_client = *peer;
        return test::EchoOnce(s);
      },
      [&](SSLSocket& s) -> absl::Status {
        client_version = s.version().value_or("");
        absl::StatusOr<PyValue> peer = s.getpeercert();
        if (!peer.ok()) return peer.status();
        server_cn_seen = SubjectCommonName(*peer);
        EXPECT_OK(match_hostname(*peer, "localhost"));
        return PingExpectEcho("hello over TLS")(s);
      });
  ASSERT_OK(run.client);
  ASSERT_OK(run.server);
  EXPECT_EQ(client_version, ExpectedVersion());
  EXPECT_EQ(server_cn_seen, "localhost");
  // One-way: the client sent no certificate.
  EXPECT_TRUE(server_view_of_client.is_none());
  EXPECT_EQ(sslshim::testing::OpenFdCount(), fds_before);
}

TEST_P(TlsVariantTest, MutualHandshakeShowsClientIdentity) {
  auto server = Server();
  ASSERT_OK(server->load_verify_locations({.cadata = pki().RootPem()}));
  ASSERT_OK(server->set_verify_mode(CERT_REQUIRED));
  auto client = Client();
  ASSERT_OK(client->load_cert_chain(StringIO(pki().ClientChainPem()),
                                    StringIO(pki().client.KeyPem())));
  std::string client_cn;
  std::string client_der;
  TlsRun run = RunTls(
      server, client, {.server_hostname = "localhost"},
      [&](SSLSocket& s) -> absl::Status {
        absl::StatusOr<PyValue> peer = s.getpeercert();
        if (!peer.ok()) return peer.status();
        client_cn = SubjectCommonName(*peer);
        absl::StatusOr<std::string> der = s.getpeercert(binary_form);
        if (der.ok()) client_der = *der;
        return test::EchoOnce(s);
      },
      PingExpectEcho());
  ASSERT_OK(run.client);
  ASSERT_OK(run.server);
  EXPECT_EQ(client_cn, "client.test");
  EXPECT_EQ(client_der, pki().client.CertDer());
}

TEST_P(TlsVariantTest, ClientWithoutCertificateIsRefusedByCertRequired) {
  auto server = Server();
  ASSERT_OK(server->load_verify_locations({.cadata = pki().RootPem()}));
  ASSERT_OK(server->set_verify_mode(CERT_REQUIRED));
  TlsRun run = RunTls(server, Client(), {.server_hostname = "localhost"},
                      test::EchoOnce, PingExpectEcho());
  EXPECT_EQ(GetErrorKind(run.server), ErrorKind::kSSLError) << run.server;
  EXPECT_THAT(std::string(run.server.message()),
              HasSubstr("PEER_DID_NOT_RETURN_A_CERTIFICATE"));
  // The client learns it from the server's alert (in TLS 1.3 on first read).
  EXPECT_FALSE(run.client.ok());
  EXPECT_EQ(GetErrorKind(run.client), ErrorKind::kSSLError) << run.client;
}

TEST_P(TlsVariantTest, UntrustedServerIsRejectedWithVerifyCode) {
  TestPki other = TestPki::Make(GetParam().key);
  auto client = SSLContext::Create(PROTOCOL_TLS_CLIENT);
  ASSERT_OK(client);
  ASSERT_OK((*client)->load_verify_locations({.cadata = other.RootPem()}));
  TlsRun run = RunTls(Server(), *client, {.server_hostname = "localhost"},
                      test::EchoOnce, PingExpectEcho());
  EXPECT_EQ(GetErrorKind(run.client), ErrorKind::kSSLCertVerificationError)
      << run.client;
  EXPECT_EQ(run.client.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(GetVerifyCode(run.client),
            absl::optional<long>(X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY));
  EXPECT_THAT(std::string(run.client.message()),
              HasSubstr("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify "
                        "failed: unable to get local issuer certificate"));
  // The server sees the client's alert.
  EXPECT_FALSE(run.server.ok());
}

TEST_P(TlsVariantTest, WrongHostnameFailsInHandshake) {
  TlsRun run = RunTls(Server(), Client(), {.server_hostname = "wrong.example"},
                      test::EchoOnce, PingExpectEcho());
  EXPECT_EQ(GetErrorKind(run.client), ErrorKind::kSSLCertVerificationError);
  EXPECT_EQ(GetVerifyCode(run.client),
            absl::optional<long>(X509_V_ERR_HOSTNAME_MISMATCH));
  EXPECT_THAT(std::string(run.client.message()),
              HasSubstr("Hostname mismatch, certificate is not valid for "
                        "'wrong.example'."));
}

TEST_P(TlsVariantTest, IpAddressIsCheckedAgainstIpSans) {
  TlsRun ok = RunTls(Server(), Client(), {.server_hostname = "127.0.0.1"},
                     test::EchoOnce, PingExpectEcho());
  EXPECT_OK(ok.client);
  TlsRun bad = RunTls(Server(), Client(), {.server_hostname = "127.0.0.2"},
                      test::EchoOnce, PingExpectEcho());
  EXPECT_EQ(GetVerifyCode(bad.client),
            absl::optional<long>(X509_V_ERR_IP_ADDRESS_MISMATCH));
  EXPECT_THAT(std::string(bad.client.message()),
              HasSubstr("IP address mismatch, certificate is not valid for "
                        "'127.0.0.2'."));
}

TEST_P(TlsVariantTest, ExpiredServerCertificateIsRejected) {
  Issued expired = Issue({.common_name = "localhost",
                          .dns_names = {"localhost"},
                          .not_before_offset = -10 * 86400,
                          .not_after_offset = -86400},
                         GetParam().key, &pki().intermediate);
  auto server = SSLContext::Create(PROTOCOL_TLS_SERVER);
  ASSERT_OK(server);
  ASSERT_OK((*server)->load_cert_chain(
      StringIO(expired.CertPem() + pki().intermediate.CertPem()),
      StringIO(expired.KeyPem())));
  TlsRun run = RunTls(*server, Client(), {.server_hostname = "localhost"},
                      test::EchoOnce, PingExpectEcho());
  EXPECT_EQ(GetErrorKind(run.client), ErrorKind::kSSLCertVerificationError);
  EXPECT_EQ(GetVerifyCode(run.client),
            absl::optional<long>(X509_V_ERR_CERT_HAS_EXPIRED));
  EXPECT_THAT(std::string(run.client.message()),
              HasSubstr("certificate has expired"));
}

TEST_P(TlsVariantTest, ExpiredClientCertificateIsRejectedByServer) {
  Issued expired = Issue({.common_name = "old-client",
                          .not_before_offset = -10 * 86400,
                          .not_after_offset = -86400},
                         GetParam().key, &pki().intermediate);
  auto server = Server();
  ASSERT_OK(server->load_verify_locations({.cadata = pki().RootPem()}));
  ASSERT_OK(server->set_verify_mode(CERT_REQUIRED));
  auto client = Client();
  ASSERT_OK(client->load_cert_chain(
      StringIO(expired.CertPem() + pki().intermediate.CertPem()),
      StringIO(expired.KeyPem())));
  TlsRun run = RunTls(server, client, {.server_hostname = "localhost"},
                      test::EchoOnce, PingExpectEcho());
  EXPECT_EQ(GetErrorKind(run.server), ErrorKind::kSSLCertVerificationError)
      << run.server;
  EXPECT_EQ(GetVerifyCode(run.server),
            absl::optional<long>(X509_V_ERR_CERT_HAS_EXPIRED));
  EXPECT_FALSE(run.client.ok());
}

TEST_P(TlsVariantTest, BulkTransferAndPending) {
  std::string big(1 << 20, 'x');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + i % 26);
  TlsRun run = RunTls(
      Server(), Client(), {.server_hostname = "localhost"},
      [&](SSLSocket& s) -> absl::Status {
        std::string got;
        while (got.size() < big.size()) {
          absl::StatusOr<std::string> r = s.recv(10000);
          if (!r.ok()) return r.status();
          if (r->empty()) break;
          got += *r;
        }
        if (got != big) return absl::DataLossError("bulk mismatch");
        return s.sendall("done");
      },
      [&](SSLSocket& s) -> absl::Status {
        absl::Status st = s.sendall(big);
        if (!st.ok()) return st;
        absl::StatusOr<std::string> r = s.recv(2);
        if (!r.ok()) return r.status();
        // "done" arrived in one record: the rest is buffered, not on the wire.
        EXPECT_EQ(*r, "do");
        EXPECT_EQ(s.pending(), 2u);
        return absl::OkStatus();
      });
  EXPECT_OK(run.server);
  EXPECT_OK(run.client);
}

INSTANTIATE_TEST_SUITE_P(
    AllVersionsAndKeys, TlsVariantTest,
    ::testing::Values(Variant{TLSVersion::TLSv1_3, KeyType::kP256},
                      Variant{TLSVersion::TLSv1_2, KeyType::kP256},
                      Variant{TLSVersion::TLSv1_3, KeyType::kRsa2048},
                      Variant{TLSVersion::TLSv1_2, KeyType::kRsa2048},
                      Variant{TLSVersion::TLSv1_3, KeyType::kP384},
                      Variant{TLSVersion::TLSv1_3, KeyType::kEd25519},
                      Variant{TLSVersion::TLSv1_2, KeyType::kEd25519}),
    VariantName);

class SslSocketTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { pki_ = new TestPki(TestPki::Make(KeyType::kP256)); }
  static const TestPki& pki() { return *pki_; }
  static TestPki* pki_;
};
TestPki* SslSocketTest::pki_ = nullptr;

TEST_F(SslSocketTest, CipherVersionAlpnAndSharedCiphers) {
  auto server = test::ServerContext(pki());
  ASSERT_OK(server->set_alpn_protocols({"h2", "http/1.1"}));
  auto client = test::ClientContext(pki());
  ASSERT_OK(client->set_alpn_protocols({"http/1.1", "h2"}));
  absl::optional<std::string> alpn_client, alpn_server;
  absl::optional<CipherInfo> cipher;
  absl::optional<std::vector<CipherInfo>> shared;
  TlsRun run = RunTls(
      server, client, {.server_hostname = "localhost"},
      [&](SSLSocket& s) {
        alpn_server = s.selected_alpn_protocol();
        shared = s.shared_ciphers();
        return test::EchoOnce(s);
      },
      [&](SSLSocket& s) {
        alpn_client = s.selected_alpn_protocol();
        cipher = s.cipher();
        return PingExpectEcho()(s);
      });
  ASSERT_OK(run.client);
  ASSERT_OK(run.server);
  // Server preference (CPython): the first of the server's list the client has.
  EXPECT_EQ(alpn_client, absl::optional<std::string>("h2"));
  EXPECT_EQ(alpn_server, absl::optional<std::string>("h2"));
  ASSERT_TRUE(cipher.has_value());
  EXPECT_TRUE(absl::StartsWith(cipher->name, "TLS_")) << cipher->name;
  EXPECT_EQ(cipher->protocol, "TLSv1.3");
  EXPECT_GE(cipher->secret_bits, 128);
  ASSERT_TRUE(shared.has_value());
  EXPECT_FALSE(shared->empty());
}

TEST_F(SslSocketTest, Tls12CipherSelectionFollowsSetCiphers) {
  auto server = test::ServerContext(pki());
  ASSERT_OK(server->set_maximum_version(TLSVersion::TLSv1_2));
  ASSERT_OK(server->set_ciphers("ECDHE-ECDSA-CHACHA20-POLY1305"));
  absl::optional<CipherInfo> cipher;
  TlsRun run = RunTls(server, test::ClientContext(pki()),
                      {.server_hostname = "localhost"}, test::EchoOnce,
                      [&](SSLSocket& s) {
                        cipher = s.cipher();
                        return PingExpectEcho()(s);
                      });
  ASSERT_OK(run.client);
  ASSERT_TRUE(cipher.has_value());
  EXPECT_EQ(cipher->name, "ECDHE-ECDSA-CHACHA20-POLY1305");
  EXPECT_EQ(cipher->protocol, "TLSv1.2");
}

TEST_F(SslSocketTest, VersionPinMismatchFailsCleanly) {
  auto server = test::ServerContext(pki());
  ASSERT_OK(server->set_maximum_version(TLSVersion::TLSv1_2));
  auto client = test::ClientContext(pki());
  ASSERT_OK(client->set_minimum_version(TLSVersion::TLSv1_3));
  TlsRun run = RunTls(server, client, {.server_hostname = "localhost"},
                      test::EchoOnce, PingExpectEcho());
  EXPECT_EQ(GetErrorKind(run.client), ErrorKind::kSSLError);
  EXPECT_THAT(std::string(run.client.message()), HasSubstr("PROTOCOL_VERSION"));
  EXPECT_FALSE(run.server.ok());
}

TEST_F(SslSocketTest, NonBlockingHandshakeCompletesWithPollLoop) {
  ASSERT_OK_AND_ASSIGN(sslshim::testing::TcpPair pair, sslshim::testing::MakeTcpPair());
  fcntl(pair.client, F_SETFL, fcntl(pair.client, F_GETFL) | O_NONBLOCK);
  fcntl(pair.server, F_SETFL, fcntl(pair.server, F_GETFL) | O_NONBLOCK);
  auto server_ctx = test::ServerContext(pki());
  auto client_ctx = test::ClientContext(pki());
  ASSERT_OK_AND_ASSIGN(auto server, server_ctx->wrap_socket(
      pair.server, {.server_side = true, .do_handshake_on_connect = false}));
  ASSERT_OK_AND_ASSIGN(auto client, client_ctx->wrap_socket(
      pair.client, {.do_handshake_on_connect = false,
                    .server_hostname = "localhost"}));
  EXPECT_EQ(client->gettimeout(), absl::optional<absl::Duration>(absl::ZeroDuration()));
  bool client_done = false, server_done = false;
  int want_reads = 0;
  for (int round = 0; round < 100 && !(client_done && server_done); ++round) {
    for (auto* s : {client.get(), server.get()}) {
      bool& done = s == client.get() ? client_done : server_done;
      if (done) continue;
      absl::Status st = s->do_handshake();
      if (st.ok()) {
        done = true;
        continue;
      }
      ErrorKind kind = GetErrorKind(st);
      ASSERT_TRUE(kind == ErrorKind::kSSLWantReadError ||
                  kind == ErrorKind::kSSLWantWriteError)
          << st;
      if (kind == ErrorKind::kSSLWantReadError) ++want_reads;
      pollfd pfd{s->fileno(), POLLIN, 0};
      poll(&pfd, 1, 10);
    }
  }
  EXPECT_TRUE(client_done);
  EXPECT_TRUE(server_done);
  EXPECT_GT(want_reads, 0);
  // Non-blocking reads with nothing to read raise SSLWantReadError.
  absl::StatusOr<std::string> r = server->recv(10);
  EXPECT_EQ(GetErrorKind(r.status()), ErrorKind::kSSLWantReadError);
  ASSERT_OK(client->sendall("x"));
  for (int i = 0; i < 100; ++i) {
    r = server->recv(10);
    if (r.ok()) break;
    pollfd pfd{server->fileno(), POLLIN, 0};
    poll(&pfd, 1, 10);
  }
  ASSERT_OK(r);
  EXPECT_EQ(*r, "x");
}

TEST_F(SslSocketTest, DoHandshakeOnConnectRefusedForNonBlockingSocket) {
  const int before = sslshim::testing::OpenFdCount();
  ASSERT_OK_AND_ASSIGN(sslshim::testing::TcpPair pair, sslshim::testing::MakeTcpPair());
  fcntl(pair.client, F_SETFL, fcntl(pair.client, F_GETFL) | O_NONBLOCK);
  auto r = test::ClientContext(pki())->wrap_socket(
      pair.client, {.server_hostname = "localhost"});
  EXPECT_THAT(r, sslshim::testing::StatusIs(absl::StatusCode::kInvalidArgument,
                                            HasSubstr("non-blocking")));
  close(pair.server);
  EXPECT_EQ(sslshim::testing::OpenFdCount(), before);  // wrap_socket closed it.
}

TEST_F(SslSocketTest, HandshakeTimesOutAgainstSilentPeer) {
  ASSERT_OK_AND_ASSIGN(sslshim::testing::TcpPair pair, sslshim::testing::MakeTcpPair());
  ASSERT_OK_AND_ASSIGN(auto client, test::ClientContext(pki())->wrap_socket(
      pair.client, {.do_handshake_on_connect = false,
                    .server_hostname = "localhost"}));
  ASSERT_OK(client->settimeout(absl::Milliseconds(300)));
  absl::Time start = absl::Now();
  absl::Status st = client->do_handshake();
  absl::Duration took = absl::Now() - start;
  EXPECT_EQ(GetErrorKind(st), ErrorKind::kTimeoutError) << st;
  EXPECT_EQ(st.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_THAT(std::string(st.message()),
              HasSubstr("The handshake operation timed out"));
  EXPECT_GE(took, absl::Milliseconds(290));
  EXPECT_LT(took, absl::Seconds(3));
  close(pair.server);
}

TEST_F(SslSocketTest, ReadTimesOut) {
  absl::Status read_status;
  TlsRun run = RunTls(
      test::ServerContext(pki()), test::ClientContext(pki()),
      {.server_hostname = "localhost"},
      [](SSLSocket& s) {
        // Wait for the client's verdict, then end.
        absl::StatusOr<std::string> r = s.recv(10);
        return r.status();
      },
      [&](SSLSocket& s) {
        EXPECT_OK(s.settimeout(absl::Milliseconds(200)));
        read_status = s.recv(10).status();
        return s.sendall("bye");
      });
  EXPECT_EQ(GetErrorKind(read_status), ErrorKind::kTimeoutError) << read_status;
  EXPECT_THAT(std::string(read_status.message()),
              HasSubstr("The read operation timed out"));
  EXPECT_OK(run.client);
  EXPECT_OK(run.server);
}

// A peer that accepts TCP, reads the ClientHello and closes: the client
// must fail with SSLEOFError, promptly, without hanging or leaking.
TEST_F(SslSocketTest, PeerVanishingMidHandshakeIsEofError) {
  const int before = sslshim::testing::OpenFdCount();
  {
    ASSERT_OK_AND_ASSIGN(sslshim::testing::TcpPair pair,
                         sslshim::testing::MakeTcpPair());
    std::thread peer([fd = pair.server] {
      char buf[4096];
      (void)!::read(fd, buf, sizeof(buf));
      ::close(fd);
    });
    auto client = test::ClientContext(pki())->wrap_socket(
        pair.client, {.server_hostname = "localhost"});
    peer.join();
    ASSERT_FALSE(client.ok());
    ErrorKind kind = GetErrorKind(client.status());
    EXPECT_TRUE(kind == ErrorKind::kSSLEOFError ||
                kind == ErrorKind::kSSLSyscallError)
        << client.status();
  }
  EXPECT_EQ(sslshim::testing::OpenFdCount(), before);
}

// A client that sends a fragment and resets the connection: the server's
// error still names the peer (recorded at wrap time, since getpeername fails
// after a reset).
TEST_F(SslSocketTest, ErrorAfterPeerResetNamesThePeer) {
  ASSERT_OK_AND_ASSIGN(sslshim::testing::TcpPair pair, sslshim::testing::MakeTcpPair());
  auto ctx = test::ServerContext(pki());
  ASSERT_OK_AND_ASSIGN(auto s, ctx->wrap_socket(pair.server,
                                                {.server_side = true,
                                                 .do_handshake_on_connect = false}));
  ASSERT_EQ(::write(pair.client, "\x16\x03\x01\x00\x05hello", 10), 10);
  linger l{1, 0};
  setsockopt(pair.client, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
  ::close(pair.client);
  absl::SleepFor(absl::Milliseconds(50));
  ASSERT_OK(s->settimeout(absl::Seconds(5)));
  absl::Status st = s->do_handshake();
  ASSERT_FALSE(st.ok());
  EXPECT_THAT(std::string(st.message()), Not(HasSubstr("unknown peer")));
  EXPECT_THAT(std::string(st.message()), HasSubstr("peer 127.0.0.1:"));
}

// A peer that closes while we still write must cost this connection an
// error, never the process a SIGPIPE (the default disposition is kept here:
// a SIGPIPE would kill the test binary).
TEST_F(SslSocketTest, WritesAfterPeerClosedAreAnErrorNotSigpipe) {
  struct sigaction old_action {};
  ASSERT_EQ(sigaction(SIGPIPE, nullptr, &old_action), 0);
  ASSERT_EQ(old_action.sa_handler, SIG_DFL);
  TlsRun run = RunTls(
      test::ServerContext(pki()), test::ClientContext(pki()),
      {.server_hostname = "localhost"},
      [](SSLSocket& s) -> absl::Status {
        // Let the client go away, then keep writing: the first write draws
        // an RST from the peer's kernel, a later one meets EPIPE.
        absl::SleepFor(absl::Milliseconds(100));
        const std::string chunk(16384, 'x');
        for (int i = 0; i < 1000; ++i) {
          absl::StatusOr<size_t> n = s.send(chunk);
          if (!n.ok()) return n.status();
        }
        return absl::OkStatus();
      },
      [](SSLSocket& s) -> absl::Status { return s.close(); });
  EXPECT_OK(run.client);
  ASSERT_FALSE(run.server.ok());
  EXPECT_THAT(GetErrorKind(run.server),
              ::testing::AnyOf(ErrorKind::kSSLEOFError, ErrorKind::kSSLSyscallError,
                               ErrorKind::kSSLError, ErrorKind::kSSLZeroReturnError))
      << run.server;
}

// A "server" that answers the ClientHello with garbage.
TEST_F(SslSocketTest, GarbageFromPeerIsSslError) {
  ASSERT_OK_AND_ASSIGN(sslshim::testing::TcpPair pair, sslshim::testing::MakeTcpPair());
  std::thread peer([fd = pair.server] {
    char buf[4096];
    (void)!::read(fd, buf, sizeof(buf));
    const char reply[] = "HTTP/1.1 400 Bad Request\r\n\r\n";
    (void)!::write(fd, reply, sizeof(reply) - 1);
    ::close(fd);
  });
  auto client = test::ClientContext(pki())->wrap_socket(
      pair.client, {.server_hostname = "localhost"});
  peer.join();
  ASSERT_FALSE(client.ok());
  EXPECT_EQ(GetErrorKind(client.status()), ErrorKind::kSSLError) << client.status();
  EXPECT_THAT(std::string(client.status().message()), HasSubstr("WRONG_VERSION_NUMBER"));
}

TEST_F(SslSocketTest, RaggedEofFollowsSuppressRaggedEofs) {
  for (bool suppress : {true, false}) {
    ASSERT_OK_AND_ASSIGN(sslshim::testing::TcpPair pair,
                         sslshim::testing::MakeTcpPair());
    auto server_ctx = test::ServerContext(pki());
    std::thread server([&, fd = pair.server] {
      auto s = server_ctx->wrap_socket(fd, {.server_side = true});
      ASSERT_OK(s);
      ASSERT_OK((*s)->sendall("partial"));
      // Close the TCP connection without close_notify.
      ASSERT_OK((*s)->close());
    });
    auto client = test::ClientContext(pki())->wrap_socket(
        pair.client, {.suppress_ragged_eofs = suppress,
                      .server_hostname = "localhost"});
    server.join();
    ASSERT_OK(client);
    ASSERT_OK((*client)->settimeout(absl::Seconds(5)));
    absl::StatusOr<std::string> first = (*client)->recv(100);
    ASSERT_OK(first);
    EXPECT_EQ(*first, "partial");
    absl::StatusOr<std::string> eof = (*client)->recv(100);
    if (suppress) {
      ASSERT_OK(eof);
      EXPECT_EQ(*eof, "");
    } else {
      EXPECT_EQ(GetErrorKind(eof.status()), ErrorKind::kSSLEOFError) << eof.status();
      EXPECT_THAT(std::string(eof.status().message()),
                  HasSubstr("EOF occurred in violation of protocol"));
    }
  }
}

TEST_F(SslSocketTest, UnwrapPerformsClosingHandshakeAndReturnsFd) {
  int server_plain_fd = -1;
  int client_plain_fd = -1;
  TlsRun run = RunTls(
      test::ServerContext(pki()), test::ClientContext(pki()),
      {.server_hostname = "localhost"},
      [&](SSLSocket& s) -> absl::Status {
        absl::StatusOr<std::string> r = s.recv(10);
        if (!r.ok()) return r.status();
        // The client's close_notify reads as a clean EOF.
        absl::StatusOr<std::string> eof = s.recv(10);
        if (!eof.ok()) return eof.status();
        EXPECT_EQ(*eof, "");
        absl::StatusOr<int> fd = s.unwrap();
        if (!fd.ok()) return fd.status();
        server_plain_fd = *fd;
        EXPECT_EQ(s.fileno(), -1);
        // Plain text after TLS.
        return ::write(*fd, "plain", 5) == 5 ? absl::OkStatus()
                                             : absl::UnknownError("write");
      },
      [&](SSLSocket& s) -> absl::Status {
        absl::Status st = s.sendall("x");
        if (!st.ok()) return st;
        absl::StatusOr<int> fd = s.unwrap();
        if (!fd.ok()) return fd.status();
        client_plain_fd = *fd;
        // The harness's timeout left the fd non-blocking; wait plainly.
        fcntl(*fd, F_SETFL, fcntl(*fd, F_GETFL) & ~O_NONBLOCK);
        char buf[5];
        size_t got = 0;
        while (got < 5) {
          ssize_t n = ::read(*fd, buf + got, 5 - got);
          if (n <= 0) return absl::DataLossError("plain read");
          got += n;
        }
        EXPECT_EQ(std::string(buf, 5), "plain");
        return absl::OkStatus();
      });
  EXPECT_OK(run.server);
  EXPECT_OK(run.client);
  EXPECT_GE(server_plain_fd, 0);
  EXPECT_GE(client_plain_fd, 0);
  if (server_plain_fd >= 0) close(server_plain_fd);
  if (client_plain_fd >= 0) close(client_plain_fd);
}

TEST_F(SslSocketTest, OperationsOnClosedSocketFail) {
  TlsRun run = RunTls(test::ServerContext(pki()), test::ClientContext(pki()),
                      {.server_hostname = "localhost"}, nullptr,
                      [](SSLSocket& s) -> absl::Status {
                        EXPECT_OK(s.close());
                        EXPECT_OK(s.close());  // Idempotent.
                        EXPECT_EQ(s.fileno(), -1);
                        EXPECT_THAT(s.recv(1), sslshim::testing::StatusIs(
                                                   absl::StatusCode::kFailedPrecondition));
                        EXPECT_THAT(s.sendall("x"), sslshim::testing::StatusIs(
                                                        absl::StatusCode::kFailedPrecondition));
                        return absl::OkStatus();
                      });
  EXPECT_OK(run.client);
}

TEST_F(SslSocketTest, GetpeercertBeforeHandshakeAndUnverifiedPeer) {
  ASSERT_OK_AND_ASSIGN(sslshim::testing::TcpPair pair, sslshim::testing::MakeTcpPair());
  ASSERT_OK_AND_ASSIGN(auto sock, test::ClientContext(pki())->wrap_socket(
      pair.client, {.do_handshake_on_connect = false,
                    .server_hostname = "localhost"}));
  EXPECT_THAT(sock->getpeercert(),
              sslshim::testing::StatusIs(absl::StatusCode::kFailedPrecondition,
                                         HasSubstr("handshake not done yet")));
  EXPECT_FALSE(sock->version().has_value());
  EXPECT_FALSE(sock->cipher().has_value());
  close(pair.server);

  // CERT_NONE client: getpeercert() is {} but the binary form is there.
  auto client = SSLContext::Create(PROTOCOL_TLS);
  ASSERT_OK(client);
  PyValue dict;
  std::string der;
  TlsRun run = RunTls(test::ServerContext(pki()), *client, {},
                      test::EchoOnce, [&](SSLSocket& s) {
                        dict = *s.getpeercert();
                        der = *s.getpeercert(binary_form);
                        return PingExpectEcho()(s);
                      });
  ASSERT_OK(run.client);
  EXPECT_EQ(dict.type(), PyValue::Type::kDict);
  EXPECT_TRUE(dict.entries().empty());
  EXPECT_EQ(der, pki().server.CertDer());
}

TEST_F(SslSocketTest, SessionStatsCountHandshakes) {
  auto server = test::ServerContext(pki());
  auto client = test::ClientContext(pki());
  for (int i = 0; i < 3; ++i) {
    TlsRun run = RunTls(server, client, {.server_hostname = "localhost"},
                        test::EchoOnce, PingExpectEcho());
    ASSERT_OK(run.client);
  }
  PyValue server_stats = server->session_stats();
  PyValue client_stats = client->session_stats();
  EXPECT_EQ(server_stats.Get("accept")->integer(), 3);
  EXPECT_EQ(server_stats.Get("accept_good")->integer(), 3);
  EXPECT_EQ(client_stats.Get("connect")->integer(), 3);
  EXPECT_EQ(client_stats.Get("connect_good")->integer(), 3);
  EXPECT_EQ(server_stats.Get("hits")->integer() + server_stats.Get("misses")->integer(), 3);
}

}  // namespace
}  // namespace sslshim::shim
