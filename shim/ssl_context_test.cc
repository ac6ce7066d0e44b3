// SSLContext: configuration, credentials from every reader kind, and every
// bad input a caller can hand it.

#include "shim/ssl_context.h"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "openssl/x509.h"
#include "shim/errors.h"
#include "shim/ssl.h"
#include "shim/tls_test_util.h"
#include "testing/cert_builder.h"
#include "testing/fd_count.h"
#include "testing/status_matchers.h"

namespace sslshim::shim {
namespace {

using ::sslshim::testing::IsOk;
using ::sslshim::testing::KeyType;
using ::sslshim::testing::StatusIs;
using ::sslshim::testing::TestPki;
using ::testing::HasSubstr;
using ::testing::Not;
using test::PingExpectEcho;
using test::RunTls;
using test::TlsRun;

class SslContextTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    pki_ = new TestPki(TestPki::Make(KeyType::kP256));
  }
  static const TestPki& pki() { return *pki_; }

  static std::string WriteTemp(const std::string& name, const std::string& content) {
    const char* dir = getenv("TEST_TMPDIR");
    std::string path = absl::StrCat(dir != nullptr ? dir : "/tmp", "/", name);
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }

  // Runs a one-way handshake with `server` against a client trusting pki().
  static absl::Status HandshakeWith(const std::shared_ptr<SSLContext>& server) {
    TlsRun run = RunTls(server, test::ClientContext(pki()),
                        {.server_hostname = "localhost"}, test::EchoOnce,
                        PingExpectEcho());
    return run.client;
  }

  static TestPki* pki_;
};
TestPki* SslContextTest::pki_ = nullptr;

TEST_F(SslContextTest, DefaultsFollowCPython) {
  ASSERT_OK_AND_ASSIGN(auto client, SSLContext::Create(PROTOCOL_TLS_CLIENT));
  EXPECT_EQ(client->verify_mode(), CERT_REQUIRED);
  EXPECT_TRUE(client->check_hostname());
  EXPECT_EQ(client->minimum_version(), TLSVersion::TLSv1_2);
  ASSERT_OK_AND_ASSIGN(auto server, SSLContext::Create(PROTOCOL_TLS_SERVER));
  EXPECT_EQ(server->verify_mode(), CERT_NONE);
  EXPECT_FALSE(server->check_hostname());
  ASSERT_OK_AND_ASSIGN(auto legacy, SSLContext::Create(PROTOCOL_SSLv23));
  EXPECT_EQ(legacy->protocol(), PROTOCOL_TLS);
  EXPECT_EQ(legacy->verify_mode(), CERT_NONE);
  EXPECT_EQ(SSL_CTX_get_min_proto_version(legacy->native()), TLS1_2_VERSION);
}

TEST_F(SslContextTest, CheckHostnameAndVerifyModeInteractAsInCPython) {
  ASSERT_OK_AND_ASSIGN(auto client, SSLContext::Create(PROTOCOL_TLS_CLIENT));
  EXPECT_THAT(client->set_verify_mode(CERT_NONE),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("check_hostname is enabled")));
  client->set_check_hostname(false);
  EXPECT_OK(client->set_verify_mode(CERT_NONE));
  client->set_check_hostname(true);
  EXPECT_EQ(client->verify_mode(), CERT_REQUIRED);
}

TEST_F(SslContextTest, UnsupportedProtocolsAndVersionsAreRefused) {
  EXPECT_THAT(SSLContext::Create(static_cast<Protocol>(1)),  // PROTOCOL_SSLv3
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("SSLv3")));
  ASSERT_OK_AND_ASSIGN(auto ctx, SSLContext::Create(PROTOCOL_TLS_CLIENT));
  EXPECT_THAT(ctx->set_minimum_version(static_cast<TLSVersion>(0x0300)),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("unsupported TLS version")));
  ASSERT_OK_AND_ASSIGN(auto pinned, SSLContext::Create(PROTOCOL_TLSv1_2));
  EXPECT_THAT(pinned->set_maximum_version(TLSVersion::TLSv1_3),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(SSL_CTX_get_min_proto_version(pinned->native()), TLS1_2_VERSION);
  EXPECT_EQ(SSL_CTX_get_max_proto_version(pinned->native()), TLS1_2_VERSION);
}

TEST_F(SslContextTest, OptionsNarrowTheVersionRange) {
  ASSERT_OK_AND_ASSIGN(auto ctx, SSLContext::Create(PROTOCOL_TLS_SERVER));
  ASSERT_OK(ctx->set_options(ctx->options() | OP_NO_TLSv1_3));
  EXPECT_EQ(SSL_CTX_get_max_proto_version(ctx->native()), TLS1_2_VERSION);
  ASSERT_OK(ctx->set_options((ctx->options() & ~OP_NO_TLSv1_3) | OP_NO_TLSv1_2));
  EXPECT_EQ(SSL_CTX_get_min_proto_version(ctx->native()), TLS1_3_VERSION);
  ASSERT_OK(ctx->set_options(ctx->options() | OP_NO_TICKET));
  EXPECT_TRUE(SSL_CTX_get_options(ctx->native()) & SSL_OP_NO_TICKET);
}

TEST_F(SslContextTest, SetCiphersRejectsUnknownSelection) {
  ASSERT_OK_AND_ASSIGN(auto ctx, SSLContext::Create(PROTOCOL_TLS_SERVER));
  EXPECT_THAT(ctx->set_ciphers("NOT-A-CIPHER"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("No cipher can be selected.")));
  EXPECT_THAT(ctx->set_ciphers(""), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_OK(ctx->set_ciphers("ECDHE+AESGCM"));
  for (const std::string& name : ctx->get_ciphers()) {
    EXPECT_THAT(name, HasSubstr("GCM"));
  }
}

TEST_F(SslContextTest, CredentialsFromEveryReaderKind) {
  const std::string chain = pki().ServerChainPem();
  const std::string key = pki().server.KeyPem();
  const std::string cert_path = WriteTemp("chain.pem", chain);
  const std::string key_path = WriteTemp("key.pem", key);
  setenv("SSLSHIM_TEST_CERT", chain.c_str(), 1);
  setenv("SSLSHIM_TEST_KEY", key.c_str(), 1);
  struct Case {
    std::string name;
    Source cert, key;
  } cases[] = {
      {"StringIO", StringIO(chain), StringIO(key)},
      {"path", cert_path, key_path},
      {"FileReader", FileReader(cert_path), FileReader(key_path)},
      {"EnvReader", EnvReader("SSLSHIM_TEST_CERT"), EnvReader("SSLSHIM_TEST_KEY")},
      {"CallableReader",
       CallableReader("record.cert", [chain] { return absl::StatusOr<std::string>(chain); }),
       CallableReader("record.key_str", [key] { return absl::StatusOr<std::string>(key); })},
      {"key in certfile", StringIO(chain + key), Source()},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    ASSERT_OK_AND_ASSIGN(auto server, SSLContext::Create(PROTOCOL_TLS_SERVER));
    ASSERT_OK(server->load_cert_chain(c.cert, c.key));
    EXPECT_OK(HandshakeWith(server));
  }
  // CA material from every kind too.
  const std::string root_path = WriteTemp("root.pem", pki().RootPem());
  for (Source ca : {Source(StringIO(pki().RootPem())), Source(root_path),
                    Source(FileReader(root_path))}) {
    ASSERT_OK_AND_ASSIGN(auto client, SSLContext::Create(PROTOCOL_TLS_CLIENT));
    ASSERT_OK(client->load_verify_locations({.cafile = ca}));
    TlsRun run = RunTls(test::ServerContext(pki()), client,
                        {.server_hostname = "localhost"}, test::EchoOnce,
                        PingExpectEcho());
    EXPECT_OK(run.client);
  }
  // cadata as DER bytes.
  ASSERT_OK_AND_ASSIGN(auto client, SSLContext::Create(PROTOCOL_TLS_CLIENT));
  ASSERT_OK(client->load_verify_locations({.cadata = pki().root.CertDer()}));
  EXPECT_OK(RunTls(test::ServerContext(pki()), client,
                   {.server_hostname = "localhost"}, test::EchoOnce,
                   PingExpectEcho())
                .client);
}

TEST_F(SslContextTest, DerCertificateAndKey) {
  ASSERT_OK_AND_ASSIGN(auto server, SSLContext::Create(PROTOCOL_TLS_SERVER));
  // A DER leaf alone; the client trusts the intermediate as partial chain.
  ASSERT_OK(server->load_cert_chain(StringIO(pki().server.CertDer()),
                                    StringIO(pki().server.KeyDer())));
  ASSERT_OK_AND_ASSIGN(auto client, SSLContext::Create(PROTOCOL_TLS_CLIENT));
  ASSERT_OK(client->load_verify_locations(
      {.cadata = pki().intermediate.CertPem() + pki().RootPem()}));
  EXPECT_OK(RunTls(server, client, {.server_hostname = "localhost"},
                   test::EchoOnce, PingExpectEcho())
                .client);
}

TEST_F(SslContextTest, EncryptedKeysWithPasswordStringAndCallback) {
  const std::string enc = pki().server.KeyPemEncrypted("s3cret");
  const std::string legacy = pki().server.KeyPemTraditionalEncrypted("s3cret");
  for (const std::string& key : {enc, legacy}) {
    ASSERT_OK_AND_ASSIGN(auto server, SSLContext::Create(PROTOCOL_TLS_SERVER));
    ASSERT_OK(server->load_cert_chain(StringIO(pki().ServerChainPem()),
                                      StringIO(key), Password::Of("s3cret")));
    EXPECT_OK(HandshakeWith(server));
    int calls = 0;
    ASSERT_OK_AND_ASSIGN(auto server2, SSLContext::Create(PROTOCOL_TLS_SERVER));
    ASSERT_OK(server2->load_cert_chain(
        StringIO(pki().ServerChainPem()), StringIO(key),
        Password::From([&calls]() -> absl::StatusOr<std::string> {
          ++calls;
          return std::string("s3cret");
        })));
    EXPECT_GE(calls, 1);
    ASSERT_OK_AND_ASSIGN(auto wrong, SSLContext::Create(PROTOCOL_TLS_SERVER));
    absl::Status s = wrong->load_cert_chain(StringIO(pki().ServerChainPem()),
                                            StringIO(key), Password::Of("nope"));
    EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("keyfile")));
    ASSERT_OK_AND_ASSIGN(auto missing, SSLContext::Create(PROTOCOL_TLS_SERVER));
    EXPECT_THAT(missing->load_cert_chain(StringIO(pki().ServerChainPem()), StringIO(key)),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         HasSubstr("no password was given")));
  }
}

TEST_F(SslContextTest, Pkcs12Bundle) {
  std::string p12 = sslshim::testing::Pkcs12(pki().server, {&pki().intermediate}, "p12pass");
  ASSERT_OK_AND_ASSIGN(auto server, SSLContext::Create(PROTOCOL_TLS_SERVER));
  ASSERT_OK(server->load_pkcs12(StringIO(p12), Password::Of("p12pass")));
  EXPECT_OK(HandshakeWith(server));
  ASSERT_OK_AND_ASSIGN(auto wrong, SSLContext::Create(PROTOCOL_TLS_SERVER));
  EXPECT_THAT(wrong->load_pkcs12(StringIO(p12), Password::Of("bad")),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("pkcs12")));
}

TEST_F(SslContextTest, CrlRevokesClientCertificate) {
  std::string crl = sslshim::testing::CrlPem(pki().intermediate, {&pki().client});
  std::string root_crl = sslshim::testing::CrlPem(pki().root, {});
  auto make_server = [&](bool with_crl) {
    auto server = test::ServerContext(pki());
    EXPECT_OK(server->load_verify_locations({.cadata = pki().RootPem()}));
    EXPECT_OK(server->set_verify_mode(CERT_REQUIRED));
    if (with_crl) {
      EXPECT_OK(server->load_crl(StringIO(crl)));
      EXPECT_OK(server->load_crl(StringIO(root_crl)));
      EXPECT_OK(server->set_verify_flags(VERIFY_CRL_CHECK_CHAIN));
    }
    return server;
  };
  auto client = test::ClientContext(pki());
  ASSERT_OK(client->load_cert_chain(StringIO(pki().ClientChainPem()),
                                    StringIO(pki().client.KeyPem())));
  TlsRun ok = RunTls(make_server(false), client, {.server_hostname = "localhost"},
                     test::EchoOnce, PingExpectEcho());
  EXPECT_OK(ok.server);
  auto server = make_server(true);
  EXPECT_EQ(server->cert_store_stats().Get("crl")->integer(), 2);
  TlsRun revoked = RunTls(server, client, {.server_hostname = "localhost"},
                          test::EchoOnce, PingExpectEcho());
  EXPECT_EQ(GetErrorKind(revoked.server), ErrorKind::kSSLCertVerificationError)
      << revoked.server;
  EXPECT_EQ(GetVerifyCode(revoked.server),
            absl::optional<long>(X509_V_ERR_CERT_REVOKED));
  // CRL checking without any CRL for the issuer fails closed.
  auto no_crl = make_server(false);
  ASSERT_OK(no_crl->set_verify_flags(VERIFY_CRL_CHECK_LEAF));
  TlsRun missing = RunTls(no_crl, client, {.server_hostname = "localhost"},
                          test::EchoOnce, PingExpectEcho());
  EXPECT_EQ(GetVerifyCode(missing.server),
            absl::optional<long>(X509_V_ERR_UNABLE_TO_GET_CRL));
}

TEST_F(SslContextTest, BadCredentialInputsNameTheArgument) {
  const std::string chain = pki().ServerChainPem();
  const std::string key = pki().server.KeyPem();
  TestPki other = TestPki::Make(KeyType::kP256);
  struct Case {
    std::string name;
    Source cert, key;
    std::string want;
  } cases[] = {
      {"malformed PEM", StringIO("-----BEGIN CERTIFICATE-----\nnot base64!\n"
                                 "-----END CERTIFICATE-----\n"),
       StringIO(key), "certfile"},
      {"truncated PEM", StringIO(chain.substr(0, chain.size() / 3)), StringIO(key),
       "certfile"},
      {"truncated DER", StringIO(pki().server.CertDer().substr(0, 100)),
       StringIO(key), "certfile"},
      {"not PEM at all", StringIO("hello world"), StringIO(key), "certfile"},
      {"key mismatch", StringIO(chain), StringIO(other.server.KeyPem()), "mismatch"},
      {"truncated key", StringIO(chain), StringIO(key.substr(0, 60)), "keyfile"},
      {"empty reader", StringIO(""), StringIO(key), "returned no data"},
      {"missing file", Source("/nonexistent/cert.pem"), StringIO(key),
       "/nonexistent/cert.pem"},
      {"unset env", EnvReader("SSLSHIM_NOT_SET_ANYWHERE"), StringIO(key),
       "SSLSHIM_NOT_SET_ANYWHERE"},
      {"failing callable", CallableReader("store record", [] {
         return absl::StatusOr<std::string>(absl::UnavailableError("store is down"));
       }),
       StringIO(key), "store is down"},
      {"oversized", StringIO(std::string(kDefaultReadLimit + 1, 'A')), StringIO(key),
       "more than the limit"},
      {"no key at all", StringIO(chain), Source(), "no private key"},
  };
  const int before = sslshim::testing::OpenFdCount();
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    ASSERT_OK_AND_ASSIGN(auto ctx, SSLContext::Create(PROTOCOL_TLS_SERVER));
    absl::Status s = ctx->load_cert_chain(c.cert, c.key);
    EXPECT_FALSE(s.ok());
    // An unreadable file is Python's OSError (FileNotFoundError there).
    EXPECT_EQ(GetErrorKind(s), c.cert.is_path() ? ErrorKind::kOSError
                                                : ErrorKind::kSSLError);
    EXPECT_THAT(std::string(s.message()), HasSubstr(c.want));
    // No key material in any message: no run of the key's base64 body.
    for (size_t at = 40; at + 16 < key.size() - 30; at += 16) {
      EXPECT_THAT(std::string(s.message()), Not(HasSubstr(key.substr(at, 16))));
    }
  }
  EXPECT_EQ(sslshim::testing::OpenFdCount(), before);
}

TEST_F(SslContextTest, BadCaInputs) {
  ASSERT_OK_AND_ASSIGN(auto ctx, SSLContext::Create(PROTOCOL_TLS_CLIENT));
  EXPECT_THAT(ctx->load_verify_locations({}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("cannot be all omitted")));
  EXPECT_THAT(ctx->load_verify_locations({.cadata = "no certificates here"}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("cadata")));
  EXPECT_THAT(ctx->load_verify_locations(
                  {.cafile = StringIO("-----BEGIN X509 CRL-----\n-----END X509 CRL-----\n")}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("cafile")));
  EXPECT_EQ(ctx->cert_store_stats().Get("x509")->integer(), 0);
}

TEST_F(SslContextTest, CaIntrospection) {
  ASSERT_OK_AND_ASSIGN(auto ctx, SSLContext::Create(PROTOCOL_TLS_CLIENT));
  // A bundle with two CAs and one leaf (the leaf is stored, not a CA).
  ASSERT_OK(ctx->load_verify_locations(
      {.cadata = pki().RootPem() + pki().intermediate.CertPem() +
                 pki().server.CertPem()}));
  PyValue stats = ctx->cert_store_stats();
  EXPECT_EQ(stats.ToPythonRepr(), "{'x509': 3, 'crl': 0, 'x509_ca': 2}");
  std::vector<PyValue> cas = ctx->get_ca_certs();
  ASSERT_EQ(cas.size(), 2u);
  EXPECT_EQ(ctx->get_ca_certs_der().size(), 2u);
  // Loading the same bundle again adds nothing.
  ASSERT_OK(ctx->load_verify_locations({.cadata = pki().RootPem()}));
  EXPECT_EQ(ctx->cert_store_stats().Get("x509")->integer(), 3);
}

TEST_F(SslContextTest, WrapSocketArgumentChecks) {
  const int before = sslshim::testing::OpenFdCount();
  ASSERT_OK_AND_ASSIGN(auto client, SSLContext::Create(PROTOCOL_TLS_CLIENT));
  ASSERT_OK_AND_ASSIGN(sslshim::testing::TcpPair pair, sslshim::testing::MakeTcpPair());
  EXPECT_THAT(client->wrap_socket(pair.client, {}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("check_hostname requires server_hostname")));
  EXPECT_THAT(client->wrap_socket(pair.server, {.server_side = true}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("PROTOCOL_TLS_CLIENT")));
  EXPECT_EQ(sslshim::testing::OpenFdCount(), before);  // Both fds closed.
  ASSERT_OK_AND_ASSIGN(pair, sslshim::testing::MakeTcpPair());
  EXPECT_THAT(client->wrap_socket(pair.client, {.server_hostname = std::string("a\0b", 3)}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("null")));
  close(pair.server);
  EXPECT_EQ(sslshim::testing::OpenFdCount(), before);
  EXPECT_THAT(client->wrap_socket(-1, {.server_hostname = "x"}),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace sslshim::shim
