// Slow and silent peers: slowloris on the handshake, on the headers and on
// the body, and a client that never reads its responses. Each is cut off
// by the server's timeouts (handshake_timeout, request_timeout), with the
// documented close reason, and costs nothing afterwards.

#include <poll.h>
#include <sys/socket.h>

#include <functional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/adversarial/attack_test.h"
#include "tests/adversarial/raw_tls.h"

namespace sslshim::adversarial {
namespace {

using SlowPeerTest = AttackTest;
using SlowHandshakeTest = AttackTest;

constexpr absl::Duration kHandshakeTimeout = absl::Seconds(1);
constexpr absl::Duration kRequestTimeout = absl::Milliseconds(1500);
constexpr absl::Duration kDrip = absl::Milliseconds(100);
// How late after its timeout the server may cut a peer off.
constexpr absl::Duration kLateness = absl::Seconds(1);

const TargetOptions kShortTimeouts = {.handshake_timeout = kHandshakeTimeout,
                                      .request_timeout = kRequestTimeout};

// Readable: the server sent something or closed (non-blocking check).
bool Readable(int fd) {
  pollfd p{.fd = fd, .events = POLLIN | POLLRDHUP, .revents = 0};
  return poll(&p, 1, 0) > 0;
}

// DripUntilAnswered sends `bytes` one piece per kDrip through `send`
// until the server answers or closes; returns how long that took, or
// InfiniteDuration when `limit` passed first.
absl::Duration DripUntilAnswered(int fd, const std::string& bytes,
                                 const std::function<bool(char)>& send,
                                 absl::Duration limit) {
  const absl::Time start = absl::Now();
  for (size_t i = 0; absl::Now() - start < limit; ++i) {
    if (Readable(fd)) return absl::Now() - start;
    if (!send(bytes[i % bytes.size()])) return absl::Now() - start;
    absl::SleepFor(kDrip);
  }
  return absl::InfiniteDuration();
}

// One byte of a ClientHello every 100 ms on 10 connections at once: every
// one is closed at handshake_timeout.
TEST_P(SlowHandshakeTest, Slowloris) {
  StartTarget(kShortTimeouts);
  const std::string hello = ClientHelloBytes({});
  std::vector<int> fds;
  for (int i = 0; i < 10; ++i) {
    absl::StatusOr<int> fd = ConnectTcpLoopback(port(), absl::Seconds(2));
    ASSERT_TRUE(fd.ok()) << fd.status();
    fds.push_back(*fd);
  }
  const absl::Time start = absl::Now();
  std::vector<absl::Duration> closed(fds.size(), absl::InfiniteDuration());
  size_t open = fds.size();
  for (size_t byte = 0; open > 0 && absl::Now() - start < absl::Seconds(4);
       ++byte) {
    for (size_t i = 0; i < fds.size(); ++i) {
      if (closed[i] != absl::InfiniteDuration()) continue;
      if (Readable(fds[i]) ||
          send(fds[i], &hello[byte % hello.size()], 1, MSG_NOSIGNAL) != 1) {
        closed[i] = absl::Now() - start;
        --open;
      }
    }
    absl::SleepFor(kDrip);
  }
  const absl::Duration limit = kHandshakeTimeout + kLateness;
  for (size_t i = 0; i < fds.size(); ++i) {
    EXPECT_LE(closed[i], limit) << "connection " << i;
    CloseFd(fds[i], CloseHow::kFin);
  }
  EXPECT_EQ(target().Events().back().value("close_reason", ""),
            "handshake_timeout");
  EXPECT_TRUE(target().Recovered());
}

// ExpectCutOffWith408 sends `head`, then `drip` one byte per 100 ms: the
// server must answer 408 and close within request_timeout.
void ExpectCutOffWith408(Target& target, const std::string& head,
                         const std::string& drip) {
  absl::StatusOr<std::unique_ptr<RawTls>> c = RawTls::Connect(target.port());
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_TRUE((*c)->Write(head).ok());
  RawTls* raw = c->get();
  const absl::Duration took = DripUntilAnswered(
      raw->fd(), drip,
      [raw](char ch) { return raw->Write(std::string(1, ch)).ok(); },
      absl::Seconds(5));
  EXPECT_LE(took, kRequestTimeout + kLateness);
  std::vector<Reply> replies = ParseReplies(raw->ReadUntilClose());
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0].status, 408);
}

// Headers one line per 100 ms, forever: 408 at request_timeout.
TEST_P(SlowPeerTest, SlowlorisHeaders) {
  StartTarget(kShortTimeouts);
  ExpectCutOffWith408(target(), "GET / HTTP/1.1\r\nHost: localhost\r\n",
                      "X-Drip: 1\r\n");
  EXPECT_TRUE(target().Recovered());
}

// A body one byte per 100 ms: 408 at request_timeout.
TEST_P(SlowPeerTest, SlowlorisBody) {
  StartTarget(kShortTimeouts);
  ExpectCutOffWith408(target(),
                      "POST / HTTP/1.1\r\nHost: localhost\r\n"
                      "Content-Length: 100000\r\n\r\n",
                      "b");
  EXPECT_TRUE(target().Recovered());
}

// Asks for 2 x 32 MB and never reads: the socket buffers (a few MB on
// loopback) fill, the server stops reading further requests, and drops
// the connection at request_timeout ("response not read"). (request_timeout
// runs from the moment a response is queued, so responses small enough to
// vanish into the buffers would each restart it.)
TEST_P(SlowPeerTest, NeverReadsResponses) {
  StartTarget(kShortTimeouts);
  absl::StatusOr<std::unique_ptr<RawTls>> c = RawTls::Connect(port());
  ASSERT_TRUE(c.ok()) << c.status();
  const std::string peer = LocalName((*c)->fd());
  std::string requests;
  for (int i = 0; i < 2; ++i) {
    requests += "GET /big?n=32000000 HTTP/1.1\r\nHost: localhost\r\n\r\n";
  }
  ASSERT_TRUE((*c)->Write(requests).ok());
  const absl::Time start = absl::Now();
  nlohmann::json e = target().EventFor(peer, absl::Seconds(10));
  ASSERT_TRUE(e.is_object()) << "connection not dropped";
  EXPECT_LE(absl::Now() - start, kRequestTimeout + kLateness) << e.dump();
  EXPECT_EQ(e.value("close_reason", ""), "request_timeout") << e.dump();
  EXPECT_TRUE(absl::StrContains(e.value("error", ""), "not read")) << e.dump();
  (*c)->Close(CloseHow::kRst);
  EXPECT_TRUE(target().Recovered());
}

// A 64 MB response read at the client's pace: the server's CPU stays
// linear in the bytes sent. (Erasing each written record from the front of
// the output buffer made it quadratic: ~4,000 memmoves of up to 64 MB,
// seconds of CPU with the event loop and its timers stalled meanwhile.)
TEST_P(SlowPeerTest, LargeResponseCostsLinearCpu) {
  // request_timeout also bounds writing a response: give sanitizer builds
  // time to read 64 MB.
  StartTarget({.request_timeout = absl::Seconds(20)});
  absl::StatusOr<std::unique_ptr<RawTls>> c = RawTls::Connect(port());
  ASSERT_TRUE(c.ok()) << c.status();
  const double cpu_before = target().CpuSeconds();
  ASSERT_TRUE((*c)->Write("GET /big?n=64000000 HTTP/1.1\r\nHost: localhost\r\n"
                          "Connection: close\r\n\r\n")
                  .ok());
  size_t got = 0;
  for (;;) {
    absl::StatusOr<std::string> more = (*c)->ReadSome();
    if (!more.ok() || more->empty()) break;
    got += more->size();
  }
  const double cpu = target().CpuSeconds() - cpu_before;
  EXPECT_GT(got, 64000000u);
  // AES-GCM and two copies of 64 MB take ~0.2 s; the slack is for
  // sanitizer builds.
  EXPECT_LT(cpu, 1.5) << "server CPU for one 64 MB response";
  (*c)->Close();
  EXPECT_TRUE(target().Recovered());
}

INSTANTIATE_TEST_SUITE_P(Library, SlowPeerTest,
                         ::testing::Values(TargetKind::kLibrary),
                         TargetParamName);

// The binary's only timeout flag is --timeout (the handshake's): the
// handshake slowloris runs against both targets.
INSTANTIATE_TEST_SUITE_P(Targets, SlowHandshakeTest, BothTargets(),
                         TargetParamName);

}  // namespace
}  // namespace sslshim::adversarial
