// Resource exhaustion: the server under RLIMIT_NOFILE 64 facing 200
// connections (accept fails with EMFILE: it must neither spin nor die, and
// must serve again once the clients go), and floods of idle connections,
// beyond max_connections for the library server.

#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/adversarial/attack_test.h"
#include "tests/adversarial/raw_tls.h"

namespace sslshim::adversarial {
namespace {

using ExhaustionTest = AttackTest;
using MaxConnectionsTest = AttackTest;

// Server CPU while its fd table is full, for this long.
constexpr absl::Duration kHold = absl::Milliseconds(1500);
// An idle loop costs next to nothing; a loop spinning on EMFILE burns
// a core per event loop (2 here): 3 s of CPU over kHold.
constexpr double kMaxCpuSecondsWhileFull = 0.5;

std::vector<int> OpenTcp(int port, int n, const std::string& first_bytes) {
  std::vector<int> fds;
  for (int i = 0; i < n; ++i) {
    absl::StatusOr<int> fd = ConnectTcpLoopback(port, absl::Seconds(2));
    if (!fd.ok()) break;
    (void)SendAll(*fd, first_bytes);
    fds.push_back(*fd);
  }
  return fds;
}

void CloseAll(std::vector<int>& fds, CloseHow how) {
  for (int fd : fds) CloseFd(fd, how);
  fds.clear();
}

TEST_P(ExhaustionTest, FdLimitWith200Connections) {
  StartTarget({.handshake_timeout = absl::Seconds(3), .fd_limit = 64});
  const std::string hello = ClientHelloBytes({});
  std::vector<int> fds = OpenTcp(port(), 100, "");
  std::vector<int> more = OpenTcp(port(), 100, hello);
  fds.insert(fds.end(), more.begin(), more.end());
  EXPECT_EQ(fds.size(), 200u);
  absl::SleepFor(absl::Milliseconds(300));  // Let the table fill.
  EXPECT_GE(target().FdCount(), 60) << "the fd table never filled";
  const double cpu_before = target().CpuSeconds();
  absl::SleepFor(kHold);
  const double cpu = target().CpuSeconds() - cpu_before;
  EXPECT_LT(cpu, kMaxCpuSecondsWhileFull) << "server spins on EMFILE";
  EXPECT_TRUE(target().Alive()) << target().ExitDescription();
  CloseAll(fds, CloseHow::kFin);
  EXPECT_TRUE(target().Recovered(absl::Seconds(10)));
}

// 250 idle connections (100 TLS, 150 TCP only) then all gone at once with
// resets: nothing stays behind.
TEST_P(ExhaustionTest, IdleConnectionFlood) {
  StartTarget({.handshake_timeout = absl::Seconds(5)});
  std::vector<std::unique_ptr<RawTls>> tls;
  for (int i = 0; i < 100; ++i) {
    absl::StatusOr<std::unique_ptr<RawTls>> c = RawTls::Connect(port());
    ASSERT_TRUE(c.ok()) << c.status();
    tls.push_back(*std::move(c));
  }
  std::vector<int> fds = OpenTcp(port(), 150, "");
  EXPECT_EQ(fds.size(), 150u);
  absl::StatusOr<nlohmann::json> stats = target().Stats();
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_GE((*stats)["connections_open"].get<int>(), 250);
  for (auto& c : tls) c->Close(CloseHow::kRst);
  CloseAll(fds, CloseHow::kRst);
  EXPECT_TRUE(target().Recovered());
}

INSTANTIATE_TEST_SUITE_P(Targets, ExhaustionTest, BothTargets(),
                         TargetParamName);

// max_connections 50, 150 idle TLS attempts: the first 50 are held (idle
// keep-alive), the rest refused at accept and counted; once the idle ones
// go, the server serves again.
TEST_P(MaxConnectionsTest, IdleFloodBeyondMaxConnections) {
  StartTarget({.handshake_timeout = absl::Seconds(5), .max_connections = 50});
  std::vector<std::unique_ptr<RawTls>> held;
  int refused = 0;
  for (int i = 0; i < 150; ++i) {
    absl::StatusOr<std::unique_ptr<RawTls>> c =
        RawTls::Connect(port(), {.timeout = absl::Seconds(2)});
    if (c.ok()) {
      held.push_back(*std::move(c));
    } else {
      ++refused;
    }
  }
  EXPECT_LE(held.size(), 50u);
  EXPECT_GE(refused, 100);
  for (auto& c : held) c->Close(CloseHow::kFin);
  ASSERT_TRUE(target().Recovered());
  absl::StatusOr<nlohmann::json> stats = target().Stats();
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_GE((*stats)["refused"].get<int>(), 100) << stats->dump();
  int max_connection_events = 0;
  for (const nlohmann::json& e : target().Events()) {
    max_connection_events += e.value("close_reason", "") == "max_connections";
  }
  EXPECT_GE(max_connection_events, 100);
}

INSTANTIATE_TEST_SUITE_P(Library, MaxConnectionsTest,
                         ::testing::Values(TargetKind::kLibrary),
                         TargetParamName);

}  // namespace
}  // namespace sslshim::adversarial
