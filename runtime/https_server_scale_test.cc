// 2,000 concurrent TLS connections on a 2-loop server: all handshakes
// complete, the server stays responsive, and everything is released.

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <vector>

#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "runtime/context_provider.h"
#include "runtime/https_server.h"
#include "runtime/https_server_test_util.h"
#include "shim/errors.h"
#include "testing/fd_count.h"
#include "testing/status_matchers.h"

namespace sslshim::runtime {
namespace {

using ::sslshim::runtime::testing::EchoHandler;
using ::sslshim::runtime::testing::ReadResponse;
using ::sslshim::runtime::testing::ServerPki;
using ::sslshim::runtime::testing::WaitUntil;
using ::sslshim::testing::IsOk;

constexpr int kConnections = 2000;

int NonBlockingConnect(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 &&
      errno != EINPROGRESS) {
    close(fd);
    return -1;
  }
  return fd;
}

TEST(HttpsServerScaleTest, TwoThousandConcurrentConnections) {
  rlimit lim{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &lim), 0);
  ASSERT_GE(lim.rlim_max, 2u * kConnections + 100) << "fd hard limit too low";
  if (lim.rlim_cur < 2u * kConnections + 100) {
    lim.rlim_cur = 2 * kConnections + 100;
    ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &lim), 0);
  }
  const ServerPki pki = ServerPki::Make();
  const int fds_before = sslshim::testing::OpenFdCount();
  {
    HttpsServerOptions options;
    options.threads = 2;
    options.handshake_timeout = absl::Seconds(60);
    absl::StatusOr<std::unique_ptr<HttpsServer>> server = HttpsServer::Start(
        options, FixedContextProvider(pki.ServerContext(false)),
        EchoHandler());
    ASSERT_THAT(server, IsOk());
    const int port = (*server)->port();
    std::shared_ptr<shim::SSLContext> client_ctx = pki.ClientContext(false);

    // Open and handshake every connection from one thread, non-blocking.
    std::vector<std::unique_ptr<shim::SSLSocket>> socks;
    for (int i = 0; i < kConnections; ++i) {
      const int fd = NonBlockingConnect(port);
      ASSERT_GE(fd, 0) << "connect " << i << ": " << strerror(errno);
      absl::StatusOr<std::unique_ptr<shim::SSLSocket>> s =
          client_ctx->wrap_socket(fd, {.do_handshake_on_connect = false,
                                       .server_hostname = "localhost"});
      ASSERT_THAT(s, IsOk());
      socks.push_back(*std::move(s));
    }
    // Generous bounds for sanitizer builds; the opt build takes ~3 s.
    const absl::Time deadline = absl::Now() + absl::Seconds(60);
    std::vector<size_t> pending(kConnections);
    for (size_t i = 0; i < pending.size(); ++i) pending[i] = i;
    std::vector<short> want(kConnections, POLLOUT);
    std::vector<bool> ready(kConnections, true);
    while (!pending.empty() && absl::Now() < deadline) {
      std::vector<size_t> next;
      for (size_t i : pending) {
        if (!ready[i]) {
          next.push_back(i);
          continue;
        }
        absl::Status s = socks[i]->do_handshake();
        if (s.ok()) continue;
        const shim::ErrorKind k = shim::GetErrorKind(s);
        ASSERT_TRUE(k == shim::ErrorKind::kSSLWantReadError ||
                    k == shim::ErrorKind::kSSLWantWriteError)
            << i << ": " << s;
        want[i] = k == shim::ErrorKind::kSSLWantReadError ? POLLIN : POLLOUT;
        next.push_back(i);
      }
      pending.swap(next);
      if (pending.empty()) break;
      std::vector<pollfd> pfds;
      for (size_t i : pending) pfds.push_back({socks[i]->fileno(), want[i], 0});
      poll(pfds.data(), pfds.size(), 100);
      for (size_t j = 0; j < pending.size(); ++j) {
        ready[pending[j]] = pfds[j].revents != 0;
      }
    }
    ASSERT_TRUE(pending.empty()) << pending.size() << " handshakes unfinished";
    ASSERT_TRUE(WaitUntil(
        [&] { return (*server)->Stats().handshakes_ok == kConnections; },
        absl::Seconds(30)))
        << (*server)->Stats().handshakes_ok;
    EXPECT_EQ((*server)->Stats().connections_open,
              static_cast<uint64_t>(kConnections));

    // Still responsive: a new connection and some of the idle ones.
    const absl::Time t0 = absl::Now();
    absl::StatusOr<std::unique_ptr<shim::SSLSocket>> fresh = pki.Connect(port);
    ASSERT_THAT(fresh, IsOk());
    ASSERT_THAT((*fresh)->sendall("GET /new HTTP/1.1\r\nHost: x\r\n\r\n"),
                IsOk());
    absl::StatusOr<testing::TestResponse> r = ReadResponse(**fresh);
    ASSERT_THAT(r, IsOk());
    EXPECT_EQ(r->body, "GET /new\n");
    EXPECT_LT(absl::Now() - t0, absl::Seconds(5));
    for (int i = 0; i < kConnections; i += 200) {
      ASSERT_THAT(socks[i]->settimeout(absl::Seconds(5)), IsOk());
      ASSERT_THAT(socks[i]->sendall("GET /old HTTP/1.1\r\nHost: x\r\n\r\n"),
                  IsOk());
      r = ReadResponse(*socks[i]);
      ASSERT_THAT(r, IsOk());
      EXPECT_EQ(r->body, "GET /old\n");
    }
    socks.clear();
    fresh->reset();
    EXPECT_TRUE(WaitUntil(
        [&] { return (*server)->Stats().connections_open == 0; },
        absl::Seconds(30)));
    EXPECT_EQ((*server)->Stats().handshakes_failed, 0u);
  }
  EXPECT_EQ(sslshim::testing::OpenFdCount(), fds_before);
}

}  // namespace
}  // namespace sslshim::runtime
