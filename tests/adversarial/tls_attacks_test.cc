// Hostile peers at the TLS layer: unread pipelined requests (the SIGPIPE
// crash of issue 8 item 1), early closes at every phase with FIN and RST,
// garbage and oversized records, renegotiation and KeyUpdate floods, and
// floods of tiny records. Every case runs against the library server and
// the `sslshim serve --http` binary.

#include <sys/socket.h>

#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "openssl/rand.h"
#include "tests/adversarial/attack_test.h"
#include "tests/adversarial/raw_tls.h"
#include "tests/interop/subprocess.h"

namespace sslshim::adversarial {
namespace {

using TlsAttackTest = AttackTest;

constexpr CloseHow kBothCloses[] = {CloseHow::kFin, CloseHow::kRst};

std::string Pipelined(int n) {
  std::string out;
  for (int i = 0; i < n; ++i) {
    absl::StrAppend(&out, "GET /", i, " HTTP/1.1\r\nHost: localhost\r\n\r\n");
  }
  return out;
}

std::string RandomBytes(size_t n) {
  std::string out(n, '\0');
  RAND_bytes(reinterpret_cast<uint8_t*>(out.data()), n);
  return out;
}

// Closed: the server ended the connection (EOF, alert or reset) well
// before `limit`, instead of waiting for more.
::testing::AssertionResult ClosedWithin(RawTls& c, absl::Duration limit) {
  const absl::Time start = absl::Now();
  std::string got = c.ReadUntilClose(limit + absl::Seconds(1));
  const absl::Duration took = absl::Now() - start;
  if (took > limit) {
    return ::testing::AssertionFailure()
           << "connection still open after " << took;
  }
  return ::testing::AssertionSuccess() << "closed after " << took;
}

::testing::AssertionResult RawClosedWithin(int fd, absl::Duration limit) {
  const absl::Time start = absl::Now();
  (void)RecvUntilClose(fd, limit + absl::Seconds(1));
  const absl::Duration took = absl::Now() - start;
  if (took > limit) {
    return ::testing::AssertionFailure()
           << "connection still open after " << took;
  }
  return ::testing::AssertionSuccess();
}

// Issue 8 item 1: 500 pipelined requests, then close without reading a
// byte. The client's kernel answers the server's responses with a reset,
// and a write without MSG_NOSIGNAL killed the server with SIGPIPE (exit
// 141 through a shell), 4 times out of 4.
TEST_P(TlsAttackTest, PipelinedRequestsThenCloseWithoutReading) {
  StartTarget();
  for (int round = 0; round < 6 && target().Alive(); ++round) {
    absl::StatusOr<std::unique_ptr<RawTls>> c = RawTls::Connect(port());
    ASSERT_TRUE(c.ok()) << c.status() << "; " << target().ExitDescription();
    ASSERT_TRUE((*c)->Write(Pipelined(500)).ok());
    (*c)->Close(kBothCloses[round % 2]);
  }
  EXPECT_TRUE(target().Recovered());
}

// The same with mutual TLS and a valid client certificate: 50 requests.
TEST_P(TlsAttackTest, MutualPipelinedRequestsThenCloseWithoutReading) {
  StartTarget({.mutual = true});
  for (int round = 0; round < 12 && target().Alive(); ++round) {
    absl::StatusOr<std::unique_ptr<RawTls>> c =
        RawTls::Connect(port(), {.client_cert = true});
    ASSERT_TRUE(c.ok()) << c.status() << "; " << target().ExitDescription();
    ASSERT_TRUE((*c)->Write(Pipelined(50)).ok());
    (*c)->Close(kBothCloses[round % 2]);
  }
  EXPECT_TRUE(target().Recovered());
}

// Closes during the handshake: right after connect, after part of the
// ClientHello record, after the whole ClientHello; FIN and RST.
TEST_P(TlsAttackTest, CloseMidHandshake) {
  StartTarget();
  const std::string hello = ClientHelloBytes({});
  ASSERT_GT(hello.size(), 40u);
  for (CloseHow how : kBothCloses) {
    for (size_t sent : {size_t{0}, size_t{3}, size_t{30}, hello.size()}) {
      for (int i = 0; i < 5; ++i) {
        absl::StatusOr<int> fd = ConnectTcpLoopback(port(), absl::Seconds(2));
        ASSERT_TRUE(fd.ok()) << fd.status();
        ASSERT_TRUE(SendAll(*fd, hello.substr(0, sent)).ok());
        if (sent == hello.size()) (void)RecvUntilClose(*fd, absl::Milliseconds(5));
        CloseFd(*fd, how);
      }
    }
  }
  EXPECT_TRUE(target().Recovered());
}

// Closes after the handshake: half a request, and half-way through a
// 4 MB response; FIN and RST.
TEST_P(TlsAttackTest, CloseMidRequestAndMidResponse) {
  StartTarget();
  for (CloseHow how : kBothCloses) {
    for (int i = 0; i < 5; ++i) {
      absl::StatusOr<std::unique_ptr<RawTls>> c = RawTls::Connect(port());
      ASSERT_TRUE(c.ok()) << c.status();
      ASSERT_TRUE((*c)->Write("POST /x HTTP/1.1\r\nHost: localhost\r\nConte").ok());
      (*c)->Close(how);
    }
    for (int i = 0; i < 5; ++i) {
      absl::StatusOr<std::unique_ptr<RawTls>> c = RawTls::Connect(port());
      ASSERT_TRUE(c.ok()) << c.status();
      ASSERT_TRUE((*c)->Write("POST /x HTTP/1.1\r\nHost: localhost\r\n"
                              "Content-Length: 1000\r\n\r\nonly a part")
                      .ok());
      (*c)->Close(how);
    }
    for (int i = 0; i < 5; ++i) {
      absl::StatusOr<std::unique_ptr<RawTls>> c = RawTls::Connect(port());
      ASSERT_TRUE(c.ok()) << c.status();
      ASSERT_TRUE((*c)->Write("GET /big?n=4000000 HTTP/1.1\r\nHost: localhost\r\n\r\n")
                      .ok());
      absl::StatusOr<std::string> first = (*c)->ReadSome();
      ASSERT_TRUE(first.ok()) << first.status();
      ASSERT_TRUE(absl::StartsWith(*first, "HTTP/1.1 ")) << *first;
      (*c)->Close(how);
    }
  }
  EXPECT_TRUE(target().Recovered());
}

// A client that half-closes (FIN, no close_notify) right after its
// requests still gets every response, then the connection ends.
TEST_P(TlsAttackTest, HalfCloseAfterRequests) {
  StartTarget();
  absl::StatusOr<std::unique_ptr<RawTls>> c = RawTls::Connect(port());
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_TRUE((*c)->Write(Pipelined(3)).ok());
  ASSERT_EQ(shutdown((*c)->fd(), SHUT_WR), 0);
  const absl::Time start = absl::Now();
  std::vector<Reply> replies = ParseReplies((*c)->ReadUntilClose());
  EXPECT_LT(absl::Now() - start, absl::Seconds(3)) << "left open";
  ASSERT_EQ(replies.size(), 3u);
  EXPECT_TRUE(absl::StrContains(replies[2].body, "/2")) << replies[2].body;
  (*c)->Close();
  EXPECT_TRUE(target().Recovered());
}

// Random bytes where a ClientHello belongs: refused at once. The first byte
// is kept off a plausible record start (content types 0x14-0x17, or the
// high bit of an SSLv2-framed ClientHello): such a header announcing more
// than 4 KiB is rightly waited for until the handshake timeout, which made
// this case flaky (about 1 run in 25 under TSan).
TEST_P(TlsAttackTest, RandomBytesInsteadOfClientHello) {
  StartTarget();
  for (int i = 0; i < 10; ++i) {
    absl::StatusOr<int> fd = ConnectTcpLoopback(port(), absl::Seconds(3));
    ASSERT_TRUE(fd.ok()) << fd.status();
    std::string garbage = RandomBytes(4096);
    garbage[0] = static_cast<char>(static_cast<uint8_t>(garbage[0]) % 0x14);
    (void)SendAll(*fd, garbage);
    EXPECT_TRUE(RawClosedWithin(*fd, absl::Seconds(2)));
    CloseFd(*fd, CloseHow::kFin);
  }
  EXPECT_TRUE(target().Recovered());
}

// Plain HTTP to the TLS port: a failed handshake whose event names it.
TEST_P(TlsAttackTest, PlainHttpToTlsPort) {
  StartTarget();
  absl::StatusOr<int> fd = ConnectTcpLoopback(port(), absl::Seconds(3));
  ASSERT_TRUE(fd.ok()) << fd.status();
  const std::string peer = LocalName(*fd);
  ASSERT_TRUE(SendAll(*fd, "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n").ok());
  EXPECT_TRUE(RawClosedWithin(*fd, absl::Seconds(2)));
  CloseFd(*fd, CloseHow::kFin);
  nlohmann::json e = target().EventFor(peer);
  ASSERT_TRUE(e.is_object()) << "no event for " << peer;
  EXPECT_EQ(e.value("handshake", ""), "failed") << e.dump();
  EXPECT_EQ(e.value("close_reason", ""), "handshake_failed") << e.dump();
  EXPECT_TRUE(absl::StrContains(e.value("error", ""), "HTTP_REQUEST"))
      << e.dump();
  EXPECT_TRUE(target().Recovered());
}

// A record longer than TLS allows (2^14 + 2048), before and after the
// handshake: refused without buffering it.
TEST_P(TlsAttackTest, OversizedRecords) {
  StartTarget();
  const std::string huge_header("\x16\x03\x01\xff\xff", 5);
  for (int i = 0; i < 5; ++i) {
    absl::StatusOr<int> fd = ConnectTcpLoopback(port(), absl::Seconds(3));
    ASSERT_TRUE(fd.ok()) << fd.status();
    (void)SendAll(*fd, huge_header + std::string(65535, '\0'));
    EXPECT_TRUE(RawClosedWithin(*fd, absl::Seconds(2)));
    CloseFd(*fd, CloseHow::kFin);
  }
  for (int len : {(1 << 14) + 2048 + 1, 65535}) {
    absl::StatusOr<std::unique_ptr<RawTls>> c = RawTls::Connect(port());
    ASSERT_TRUE(c.ok()) << c.status();
    std::string record = {0x17, 0x03, 0x03, static_cast<char>(len >> 8),
                          static_cast<char>(len & 0xff)};
    record += RandomBytes(len);
    (void)SendAll((*c)->fd(), record);
    EXPECT_TRUE(ClosedWithin(**c, absl::Seconds(2))) << "record of " << len;
  }
  EXPECT_TRUE(target().Recovered());
}

// A valid handshake, then records that fail to decrypt.
TEST_P(TlsAttackTest, GarbageRecordsAfterHandshake) {
  StartTarget();
  for (int i = 0; i < 5; ++i) {
    absl::StatusOr<std::unique_ptr<RawTls>> c = RawTls::Connect(port());
    ASSERT_TRUE(c.ok()) << c.status();
    const std::string peer = LocalName((*c)->fd());
    std::string records;
    for (int r = 0; r < 10; ++r) {
      records += std::string("\x17\x03\x03\x00\x40", 5) + RandomBytes(64);
    }
    (void)SendAll((*c)->fd(), records);
    EXPECT_TRUE(ClosedWithin(**c, absl::Seconds(2)));
    nlohmann::json e = target().EventFor(peer);
    EXPECT_EQ(e.value("close_reason", ""), "io_error") << e.dump();
    EXPECT_TRUE(absl::StrContains(e.value("error", ""), "BAD_DECRYPT"))
        << e.dump();
  }
  EXPECT_TRUE(target().Recovered());
}

// TLS 1.2 renegotiation, asked for by `openssl s_client` ("R"), over and
// over: BoringSSL servers never renegotiate; the connection is refused
// with a no_renegotiation alert and the server carries on.
TEST_P(TlsAttackTest, RenegotiationFlood) {
  StartTarget();
  for (int i = 0; i < 5; ++i) {
    std::string input;
    for (int r = 0; r < 20; ++r) input += "R\n";
    absl::StatusOr<interop::SubprocessResult> r = interop::Subprocess::Run(
        {"/usr/bin/openssl", "s_client", "-connect",
         absl::StrCat("127.0.0.1:", port()), "-tls1_2", "-servername",
         "localhost"},
        input, absl::Seconds(10));
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_FALSE(r->timed_out);
    EXPECT_TRUE(absl::StrContains(r->out + r->err, "RENEGOTIATING"))
        << r->out << r->err;
    EXPECT_TRUE(absl::StrContains(r->out + r->err, "no renegotiation"))
        << r->out << r->err;
  }
  EXPECT_TRUE(target().Recovered());
}

// TLS 1.3 KeyUpdate flood: thousands of KeyUpdates asking for the
// server's own, with no application data: BoringSSL ends the connection
// (too many key updates) and the server carries on.
TEST_P(TlsAttackTest, KeyUpdateFlood) {
  StartTarget();
  for (int i = 0; i < 3; ++i) {
    absl::StatusOr<std::unique_ptr<RawTls>> c =
        RawTls::Connect(port(), {.min_version = TLS1_3_VERSION});
    ASSERT_TRUE(c.ok()) << c.status();
    const std::string peer = LocalName((*c)->fd());
    int sent = 0;
    for (; sent < 5000; ++sent) {
      if (SSL_key_update((*c)->ssl(), SSL_KEY_UPDATE_REQUESTED) != 1) break;
      if (SSL_write((*c)->ssl(), "", 0) < 0) break;
    }
    EXPECT_GT(sent, 32);
    EXPECT_TRUE(ClosedWithin(**c, absl::Seconds(2)));
    nlohmann::json e = target().EventFor(peer);
    EXPECT_EQ(e.value("close_reason", ""), "io_error") << e.dump();
    EXPECT_TRUE(absl::StrContains(e.value("error", ""), "TOO_MANY_KEY_UPDATES"))
        << e.dump();
  }
  // KeyUpdates between requests are fine: the connection keeps working.
  absl::StatusOr<std::unique_ptr<RawTls>> c =
      RawTls::Connect(port(), {.min_version = TLS1_3_VERSION});
  ASSERT_TRUE(c.ok()) << c.status();
  std::string raw;
  for (int r = 0; r < 20; ++r) {
    ASSERT_EQ(SSL_key_update((*c)->ssl(), SSL_KEY_UPDATE_REQUESTED), 1);
    ASSERT_TRUE((*c)->Write("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n").ok());
    while (ParseReplies(raw).size() < static_cast<size_t>(r + 1)) {
      absl::StatusOr<std::string> more = (*c)->ReadSome();
      ASSERT_TRUE(more.ok() && !more->empty()) << "request " << r;
      raw += *more;
    }
  }
  (*c)->Close();
  EXPECT_TRUE(target().Recovered());
}

// One byte per record: a 12 KB request (and 20 pipelined ones) arriving
// in thousands of records is still served, in bounded time.
TEST_P(TlsAttackTest, TinyRecords) {
  StartTarget();
  absl::StatusOr<std::unique_ptr<RawTls>> c = RawTls::Connect(port());
  ASSERT_TRUE(c.ok()) << c.status();
  const std::string big = absl::StrCat("GET /tiny HTTP/1.1\r\nHost: localhost\r\n",
                                       "X-Pad: ", std::string(12000, 'p'),
                                       "\r\n\r\n");
  const absl::Time start = absl::Now();
  ASSERT_TRUE((*c)->WriteInRecords(big + Pipelined(20), 1).ok());
  std::string raw;
  while (ParseReplies(raw).size() < 21 && absl::Now() - start < absl::Seconds(20)) {
    absl::StatusOr<std::string> more = (*c)->ReadSome();
    ASSERT_TRUE(more.ok() && !more->empty());
    raw += *more;
  }
  std::vector<Reply> replies = ParseReplies(raw);
  ASSERT_EQ(replies.size(), 21u);
  EXPECT_EQ(replies[0].status, 200);
  EXPECT_LT(absl::Now() - start, absl::Seconds(20));
  (*c)->Close();
  EXPECT_TRUE(target().Recovered());
}

INSTANTIATE_TEST_SUITE_P(Targets, TlsAttackTest, BothTargets(),
                         TargetParamName);

}  // namespace
}  // namespace sslshim::adversarial
