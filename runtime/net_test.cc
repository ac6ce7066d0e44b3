#include "runtime/net.h"

#include <unistd.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/status_matchers.h"

namespace sslshim::runtime {
namespace {

using ::sslshim::testing::StatusIs;
using ::testing::HasSubstr;

TEST(NetTest, ListenConnectAcceptOnLoopback) {
  for (const char* host : {"127.0.0.1", "::1"}) {
    ASSERT_OK_AND_ASSIGN(TcpListener l, TcpListener::Listen(host, 0));
    EXPECT_GT(l.port(), 0);
    ASSERT_OK_AND_ASSIGN(int client, ConnectTcp(host, l.port(), absl::Seconds(2)));
    ASSERT_OK_AND_ASSIGN(int server, l.Accept(absl::Seconds(2)));
    ASSERT_EQ(write(client, "x", 1), 1);
    char c = 0;
    ASSERT_EQ(read(server, &c, 1), 1);
    EXPECT_EQ(c, 'x');
    close(client);
    close(server);
  }
}

TEST(NetTest, ErrorsNameTheEndpoint) {
  EXPECT_THAT(TcpListener::Listen("not-an-ip", 0),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not-an-ip")));
  int port;
  {
    ASSERT_OK_AND_ASSIGN(TcpListener l, TcpListener::Listen("127.0.0.1", 0));
    port = l.port();
    EXPECT_THAT(TcpListener::Listen("127.0.0.1", port),
                StatusIs(absl::StatusCode::kUnavailable,
                         HasSubstr("127.0.0.1:" + std::to_string(port))));
    EXPECT_THAT(l.Accept(absl::Milliseconds(50)),
                StatusIs(absl::StatusCode::kDeadlineExceeded));
  }
  EXPECT_THAT(ConnectTcp("127.0.0.1", port, absl::Seconds(2)),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("refused")));
  EXPECT_THAT(ConnectTcp("127.0.0.1", 70000, absl::Seconds(1)),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace sslshim::runtime
