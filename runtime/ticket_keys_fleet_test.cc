// Fleet resumption across PROCESSES: two forked server processes (A and B),
// each a facade TLS echo server with its own TicketKeyManager over one real
// redis-server. A client handshakes with A, keeps the ticket and resumes on
// B; after one rotation (made by a third host, this test process) the old
// ticket still resumes under the previous key; after two it does not.

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "certstore/store_url.h"
#include "gtest/gtest.h"
#include "runtime/ticket_keys.h"
#include "shim/ssl.h"
#include "shim/tls_test_util.h"
#include "testing/cert_builder.h"
#include "testing/fd_count.h"
#include "testing/redis_server.h"
#include "testing/socket_pair.h"
#include "testing/status_matchers.h"

namespace sslshim::runtime {
namespace {

using certstore::Kek;
using certstore::KeyPath;
using sslshim::testing::KeyType;
using sslshim::testing::SharedTestPki;

Kek FleetKek() { return *Kek::FromBytes(std::string(32, 'f')); }
KeyPath FleetPath() { return *KeyPath::Parse("TicketKeys/fleet"); }

// Child: serve TLS echo-with-status forever (until killed). Each connection
// gets one line back: "reused=<0|1> hits=<n> key=<current key name hex>".
[[noreturn]] void ServeChild(const std::string& redis_url, int report_fd) {
  auto fail = [report_fd](const absl::Status& s) {
    std::string line = absl::StrCat("ERROR ", s.ToString(), "\n");
    (void)!write(report_fd, line.data(), line.size());
    _exit(1);
  };
  absl::StatusOr<std::unique_ptr<certstore::Store>> store = certstore::OpenStore(redis_url);
  if (!store.ok()) fail(store.status());
  absl::StatusOr<std::shared_ptr<TicketKeyManager>> keys = TicketKeyManager::Create(
      store->get(), FleetKek(),
      {.path = FleetPath(), .rotation_interval = absl::ZeroDuration(),
       .poll_interval = absl::Milliseconds(50)});
  if (!keys.ok()) fail(keys.status());
  if (absl::Status s = (*keys)->Start(); !s.ok()) fail(s);
  std::shared_ptr<shim::SSLContext> ctx =
      shim::test::ServerContext(SharedTestPki(KeyType::kP256));
  if (absl::Status s = (*keys)->Install(*ctx); !s.ok()) fail(s);
  absl::StatusOr<sslshim::testing::Listener> listener = sslshim::testing::Listener::Create();
  if (!listener.ok()) fail(listener.status());
  std::string port_line = absl::StrCat("PORT ", listener->port(), "\n");
  (void)!write(report_fd, port_line.data(), port_line.size());
  for (;;) {
    if (getppid() == 1) _exit(0);  // The test is gone.
    int fd = listener->Accept();
    if (fd < 0) continue;
    auto sock = ctx->wrap_socket(fd, {.server_side = true, .do_handshake_on_connect = false});
    if (!sock.ok()) continue;
    (void)(*sock)->settimeout(absl::Seconds(10));
    if (!(*sock)->do_handshake().ok()) continue;
    absl::StatusOr<std::string> got = (*sock)->recv(100);
    if (!got.ok()) continue;
    std::string reply = absl::StrCat(
        "reused=", (*sock)->session_reused() ? 1 : 0,
        " hits=", ctx->session_stats().Get("hits")->integer(),
        " key=", (*keys)->Stats().current_name_hex, "\n");
    (void)(*sock)->sendall(reply);
    absl::StatusOr<int> plain = (*sock)->unwrap();
    if (plain.ok()) ::close(*plain);
  }
}

// ServerProcess is one forked server host.
class ServerProcess {
 public:
  static absl::StatusOr<std::unique_ptr<ServerProcess>> Start(const std::string& redis_url) {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) return absl::InternalError("pipe");
    pid_t pid = fork();
    if (pid < 0) return absl::InternalError("fork");
    if (pid == 0) {
      ::close(fds[0]);
      ServeChild(redis_url, fds[1]);
    }
    ::close(fds[1]);
    auto p = std::unique_ptr<ServerProcess>(new ServerProcess(pid, fds[0]));
    std::string line;
    char c;
    pollfd pfd{fds[0], POLLIN, 0};
    while (line.find('\n') == std::string::npos) {
      if (poll(&pfd, 1, 10000) <= 0 || read(fds[0], &c, 1) != 1) {
        return absl::DeadlineExceededError("server child did not report a port");
      }
      line.push_back(c);
    }
    if (!absl::StartsWith(line, "PORT ") ||
        !absl::SimpleAtoi(absl::StripAsciiWhitespace(line.substr(5)), &p->port_)) {
      return absl::InternalError(absl::StrCat("server child: ", line));
    }
    return p;
  }
  ~ServerProcess() {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    ::close(report_fd_);
  }
  int port() const { return port_; }

 private:
  ServerProcess(pid_t pid, int fd) : pid_(pid), report_fd_(fd) {}
  pid_t pid_;
  int report_fd_;
  int port_ = 0;
};

// Reply is what one client connection saw.
struct Reply {
  bool client_reused = false;
  bool server_reused = false;
  int64_t server_hits = -1;
  std::string server_key;
  std::shared_ptr<const shim::SSLSession> session;
};

absl::StatusOr<Reply> Call(int port, shim::TLSVersion version,
                           std::shared_ptr<const shim::SSLSession> session) {
  auto ctx = shim::test::ClientContext(SharedTestPki(KeyType::kP256));
  absl::Status s = ctx->set_maximum_version(version);
  if (!s.ok()) return s;
  int fd = sslshim::testing::ConnectTcp(port);
  if (fd < 0) return absl::UnavailableError("connect");
  auto sock = ctx->wrap_socket(fd, {.do_handshake_on_connect = false,
                                    .server_hostname = "localhost",
                                    .session = session});
  if (!sock.ok()) return sock.status();
  if (s = (*sock)->settimeout(absl::Seconds(10)); !s.ok()) return s;
  if (s = (*sock)->do_handshake(); !s.ok()) return s;
  if (s = (*sock)->sendall("hi\n"); !s.ok()) return s;
  std::string line;
  while (line.find('\n') == std::string::npos) {
    absl::StatusOr<std::string> got = (*sock)->recv(200);
    if (!got.ok()) return got.status();
    if (got->empty()) return absl::DataLossError("early EOF: " + line);
    line += *got;
  }
  Reply r;
  r.client_reused = (*sock)->session_reused();
  r.session = (*sock)->session();
  for (absl::string_view kv : absl::StrSplit(absl::StripAsciiWhitespace(line), ' ')) {
    std::pair<std::string, std::string> p = absl::StrSplit(kv, '=');
    if (p.first == "reused") r.server_reused = p.second == "1";
    if (p.first == "hits") (void)absl::SimpleAtoi(p.second, &r.server_hits);
    if (p.first == "key") r.server_key = p.second;
  }
  return r;
}

// WaitForKey probes `port` until its server reports `key` (10 s).
absl::Status WaitForKey(int port, shim::TLSVersion version, const std::string& key) {
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  std::string last;
  while (absl::Now() < deadline) {
    absl::StatusOr<Reply> r = Call(port, version, nullptr);
    if (!r.ok()) return r.status();
    if (r->server_key == key) return absl::OkStatus();
    last = r->server_key;
    absl::SleepFor(absl::Milliseconds(20));
  }
  return absl::DeadlineExceededError(absl::StrCat("port ", port, " still on key ", last));
}

class FleetTest : public ::testing::TestWithParam<shim::TLSVersion> {};

TEST_P(FleetTest, ResumesOnAnotherProcessAndFollowsRotation) {
  const shim::TLSVersion version = GetParam();
  (void)SharedTestPki(KeyType::kP256);  // Made before forking.
  const int fds_before = sslshim::testing::OpenFdCount();
  {
    ASSERT_OK_AND_ASSIGN(auto redis, sslshim::testing::RedisServer::Start());
    ASSERT_OK_AND_ASSIGN(auto a, ServerProcess::Start(redis->Url()));
    ASSERT_OK_AND_ASSIGN(auto b, ServerProcess::Start(redis->Url()));

    // This process is the operator's host: it rotates.
    ASSERT_OK_AND_ASSIGN(auto store, certstore::OpenStore(redis->Url()));
    ASSERT_OK_AND_ASSIGN(auto keys, TicketKeyManager::Create(store.get(), FleetKek(),
                                                             {.path = FleetPath()}));

    ASSERT_OK_AND_ASSIGN(Reply first, Call(a->port(), version, nullptr));
    EXPECT_FALSE(first.client_reused);
    EXPECT_EQ(first.server_key, keys->Stats().current_name_hex);
    ASSERT_NE(first.session, nullptr);

    ASSERT_OK_AND_ASSIGN(Reply on_b, Call(b->port(), version, first.session));
    EXPECT_TRUE(on_b.client_reused);
    EXPECT_TRUE(on_b.server_reused);
    EXPECT_EQ(on_b.server_hits, 1);

    ASSERT_TRUE(*keys->Rotate());
    const std::string k2 = keys->Stats().current_name_hex;
    ASSERT_OK(WaitForKey(a->port(), version, k2));
    ASSERT_OK(WaitForKey(b->port(), version, k2));
    ASSERT_OK_AND_ASSIGN(Reply after_one, Call(b->port(), version, first.session));
    EXPECT_TRUE(after_one.client_reused) << "previous key should still open it";
    EXPECT_TRUE(after_one.server_reused);
    // The renewed ticket (under the current key) resumes on A too.
    ASSERT_OK_AND_ASSIGN(Reply renewed, Call(a->port(), version, after_one.session));
    EXPECT_TRUE(renewed.client_reused);

    ASSERT_TRUE(*keys->Rotate());
    const std::string k3 = keys->Stats().current_name_hex;
    ASSERT_OK(WaitForKey(a->port(), version, k3));
    ASSERT_OK(WaitForKey(b->port(), version, k3));
    ASSERT_OK_AND_ASSIGN(Reply after_two, Call(b->port(), version, first.session));
    EXPECT_FALSE(after_two.client_reused) << "two rotations later the key is gone";
    EXPECT_FALSE(after_two.server_reused);
    ASSERT_OK_AND_ASSIGN(Reply after_two_a, Call(a->port(), version, first.session));
    EXPECT_FALSE(after_two_a.client_reused);
  }
  EXPECT_EQ(sslshim::testing::OpenFdCount(), fds_before);
}

INSTANTIATE_TEST_SUITE_P(Versions, FleetTest,
                         ::testing::Values(shim::TLSVersion::TLSv1_2,
                                           shim::TLSVersion::TLSv1_3),
                         [](const auto& info) {
                           return info.param == shim::TLSVersion::TLSv1_2 ? "TLS12"
                                                                          : "TLS13";
                         });

}  // namespace
}  // namespace sslshim::runtime
