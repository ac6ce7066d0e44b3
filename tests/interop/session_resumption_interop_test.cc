// Session resumption against real clients: `openssl s_client -sess_out` then
// `-sess_in` (a reconnect with the saved session) and Python's
// `wrap_socket(session=)`, against our facade server with tickets on (the
// default), TLS 1.2 and 1.3; with OP_NO_TICKET TLS 1.3 does not resume.

#include <unistd.h>

#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
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
using ::testing::HasSubstr;

// EchoServer accepts `n` connections on a facade server context, echoes one
// line on each and records whether each handshake resumed a session.
class EchoServer {
 public:
  EchoServer(std::shared_ptr<ssl::SSLContext> ctx, int n) : ctx_(std::move(ctx)) {
    absl::StatusOr<sslshim::testing::Listener> l = sslshim::testing::Listener::Create();
    if (!l.ok()) return;
    listener_.emplace(std::move(*l));
    thread_ = std::thread([this, n] {
      for (int i = 0; i < n; ++i) {
        int fd = listener_->Accept();
        if (fd < 0) return;
        auto s = ctx_->wrap_socket(fd, {.server_side = true,
                                        .do_handshake_on_connect = false});
        if (!s.ok()) continue;
        (void)(*s)->settimeout(absl::Seconds(10));
        if (!(*s)->do_handshake().ok()) continue;
        reused_.push_back((*s)->session_reused());
        std::string line;
        if (ReadLine(**s, &line).ok()) (void)(*s)->sendall(line);
        absl::StatusOr<int> plain = (*s)->unwrap();  // Hands the fd back.
        if (plain.ok()) ::close(*plain);
      }
    });
  }
  ~EchoServer() {
    if (thread_.joinable()) thread_.join();
  }
  int port() const { return listener_ ? listener_->port() : 0; }
  // Reused flags, valid after the destructor joined or Join().
  std::vector<bool> Join() {
    if (thread_.joinable()) thread_.join();
    return reused_;
  }

 private:
  std::shared_ptr<ssl::SSLContext> ctx_;
  std::optional<sslshim::testing::Listener> listener_;
  std::thread thread_;
  std::vector<bool> reused_;
};

std::shared_ptr<ssl::SSLContext> ServerCtx(bool no_ticket) {
  const InteropPki& pki = GetPki(KeyType::kP256);
  auto ctx = ssl::SSLContext::Create(ssl::PROTOCOL_TLS_SERVER);
  EXPECT_OK(ctx.status());
  EXPECT_OK((*ctx)->load_cert_chain(ssl::StringIO(pki.server.chain_pem),
                                    ssl::StringIO(pki.server.key_pem)));
  if (no_ticket) EXPECT_OK((*ctx)->set_options((*ctx)->options() | ssl::OP_NO_TICKET));
  return *ctx;
}

absl::StatusOr<SubprocessResult> SClient(int port, const std::string& version_flag,
                                         const std::string& sess_flag,
                                         const std::string& sess_path) {
  const InteropPki& pki = GetPki(KeyType::kP256);
  return Subprocess::Run({kOpenssl, "s_client", "-connect",
                          absl::StrCat("127.0.0.1:", port), "-CAfile", pki.root_path,
                          "-verify_return_error", "-servername", "localhost",
                          version_flag, "-ign_eof", sess_flag, sess_path},
                         "ping\n", absl::Seconds(15));
}

struct Case {
  std::string flag;
  std::string version;
};

class OpensslResumeTest : public ::testing::TestWithParam<Case> {};

TEST_P(OpensslResumeTest, SessOutThenSessInResumes) {
  const int fds_before = sslshim::testing::OpenFdCount();
  {
    EchoServer server(ServerCtx(false), 2);
    ASSERT_NE(server.port(), 0);
    const std::string sess =
        WriteTestFile(absl::StrCat("sess-", GetParam().version, ".pem"), "");
    ASSERT_OK_AND_ASSIGN(SubprocessResult first,
                         SClient(server.port(), GetParam().flag, "-sess_out", sess));
    EXPECT_EQ(first.exit_code, 0) << first.err;
    EXPECT_THAT(first.out, HasSubstr(absl::StrCat("New, ", GetParam().version)));
    EXPECT_THAT(first.out, HasSubstr("ping"));
    ASSERT_OK_AND_ASSIGN(SubprocessResult second,
                         SClient(server.port(), GetParam().flag, "-sess_in", sess));
    EXPECT_EQ(second.exit_code, 0) << second.err;
    EXPECT_THAT(second.out, HasSubstr(absl::StrCat("Reused, ", GetParam().version)));
    EXPECT_EQ(server.Join(), (std::vector<bool>{false, true}));
  }
  EXPECT_EQ(sslshim::testing::OpenFdCount(), fds_before);
}

INSTANTIATE_TEST_SUITE_P(Versions, OpensslResumeTest,
                         ::testing::Values(Case{"-tls1_2", "TLSv1.2"},
                                           Case{"-tls1_3", "TLSv1.3"}),
                         [](const auto& info) {
                           return info.param.version == "TLSv1.2" ? "TLS12" : "TLS13";
                         });

TEST(OpensslResumeTest, NoTicketTls13IsNotResumed) {
  EchoServer server(ServerCtx(true), 2);
  const std::string sess = WriteTestFile("sess-noticket.pem", "");
  ASSERT_OK_AND_ASSIGN(SubprocessResult first,
                       SClient(server.port(), "-tls1_3", "-sess_out", sess));
  EXPECT_EQ(first.exit_code, 0) << first.err;
  // No ticket arrived, so there is no session to save; reconnect without it.
  ASSERT_OK_AND_ASSIGN(
      SubprocessResult second,
      Subprocess::Run({kOpenssl, "s_client", "-connect",
                       absl::StrCat("127.0.0.1:", server.port()), "-CAfile",
                       GetPki(KeyType::kP256).root_path, "-tls1_3", "-ign_eof"},
                      "ping\n", absl::Seconds(15)));
  EXPECT_THAT(second.out, HasSubstr("New, TLSv1.3"));
  EXPECT_EQ(server.Join(), (std::vector<bool>{false, false}));
}

TEST(PythonResumeTest, WrapSocketSessionResumes) {
  EchoServer server(ServerCtx(false), 2);
  const char* script = R"py(
import socket, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[2])
def conn(session=None):
    raw = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
    s = ctx.wrap_socket(raw, server_hostname="localhost", session=session)
    s.sendall(b"ping\n")
    s.recv(100)
    out = (s.session_reused, s.session)
    s.close()
    return out
r1, sess = conn()
r2, _ = conn(sess)
print("reused", r1, r2, sess.has_ticket)
)py";
  ASSERT_OK_AND_ASSIGN(
      SubprocessResult r,
      Subprocess::Run({kPython, "-c", script, absl::StrCat(server.port()),
                       GetPki(KeyType::kP256).root_path},
                      "", absl::Seconds(15)));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("reused False True True"));
  EXPECT_EQ(server.Join(), (std::vector<bool>{false, true}));
}

}  // namespace
}  // namespace sslshim::interop
