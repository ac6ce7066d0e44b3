// Hostile HTTP on a good TLS connection: request smuggling (Content-Length
// with Transfer-Encoding, duplicate or obfuscated Transfer-Encoding, two
// Content-Lengths, negative or overflowing lengths), hostile chunked
// encodings, and floods of headers, trailers and body. Each request must
// get exactly one answer, the documented error (400, 413 or 431) with
// "Connection: close", and the connection must close: a request smuggled
// behind it is never answered, so it is never parsed two ways.

#include <ostream>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/adversarial/attack_test.h"
#include "tests/adversarial/raw_tls.h"

namespace sslshim::adversarial {
namespace {

// HostileRequest: the bytes, and the one status they must get.
struct HostileRequest {
  std::string name;
  std::string bytes;
  int status;
};

// gtest prints the case by name, not as bytes.
void PrintTo(const HostileRequest& r, std::ostream* os) { *os << r.name; }

const char kSmuggled[] = "GET /smuggled HTTP/1.1\r\nHost: localhost\r\n\r\n";

std::string Post(const std::string& headers, const std::string& body) {
  return absl::StrCat("POST /upload HTTP/1.1\r\nHost: localhost\r\n", headers,
                      "\r\n", body, kSmuggled);
}

std::string Repeat(const std::string& s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

std::vector<HostileRequest> Cases() {
  const std::string chunked = "Transfer-Encoding: chunked\r\n";
  return {
      // Smuggling: two framings at once, or one disguised.
      {"ContentLengthAndChunked",
       Post("Content-Length: 5\r\n" + chunked, "0\r\n\r\n"), 400},
      {"ChunkedAndContentLength",
       Post(chunked + "Content-Length: 5\r\n", "0\r\n\r\n"), 400},
      {"DuplicateTransferEncoding", Post(chunked + chunked, "0\r\n\r\n"), 400},
      {"ChunkedListedTwice",
       Post("Transfer-Encoding: chunked, chunked\r\n", "0\r\n\r\n"), 400},
      {"UnsupportedCodingThenChunked",
       Post("Transfer-Encoding: gzip, chunked\r\n", "0\r\n\r\n"), 400},
      {"IdentityThenChunkedHeaders",
       Post("Transfer-Encoding: identity\r\n" + chunked, "0\r\n\r\n"), 400},
      {"XChunked", Post("Transfer-Encoding: xchunked\r\n", "0\r\n\r\n"), 400},
      {"SpaceBeforeColon",
       Post("Transfer-Encoding : chunked\r\n", "0\r\n\r\n"), 400},
      {"VerticalTabInValue",
       Post("Transfer-Encoding:\x0b" "chunked\r\n", "0\r\n\r\n"), 400},
      {"ObsFoldedTransferEncoding",
       Post("Transfer-Encoding:\r\n chunked\r\n", "0\r\n\r\n"), 400},
      {"ChunkedInHttp10",
       absl::StrCat("POST /upload HTTP/1.0\r\nHost: localhost\r\n", chunked,
                    "\r\n0\r\n\r\n", kSmuggled),
       400},
      {"TwoDifferentContentLengths",
       Post("Content-Length: 3\r\nContent-Length: 5\r\n", "abcde"), 400},
      {"SameContentLengthTwice",
       Post("Content-Length: 5\r\nContent-Length: 5\r\n", "abcde"), 400},
      {"ContentLengthList", Post("Content-Length: 5, 5\r\n", "abcde"), 400},
      {"NegativeContentLength", Post("Content-Length: -1\r\n", ""), 400},
      {"PlusContentLength", Post("Content-Length: +5\r\n", "abcde"), 400},
      {"OverflowingContentLength",
       Post("Content-Length: 184467440737095516160\r\n", ""), 400},
      // Hostile chunked encodings.
      {"ChunkSizeOverflowingHex",
       Post(chunked, "1000000000000000000001\r\nx\r\n0\r\n\r\n"), 400},
      {"ChunkSizeNotHex", Post(chunked, "zz\r\nx\r\n0\r\n\r\n"), 400},
      {"NegativeChunkSize", Post(chunked, "-1\r\nx\r\n0\r\n\r\n"), 400},
      {"ChunkDataWithoutCrlf", Post(chunked, "3\r\nabcXY0\r\n\r\n"), 400},
      {"ChunkDataRunsIntoNextSize", Post(chunked, "3\r\nabc0\r\n\r\n"), 400},
      {"ChunkExtensionFlood",
       Post(chunked, absl::StrCat("1", Repeat(";a=b", 20000), "\r\nx\r\n0\r\n\r\n")),
       400},
      {"HugeChunkSize", Post(chunked, "fffffffff\r\nxxxx"), 413},
      {"TrailerFlood",
       Post(chunked, absl::StrCat("1\r\nx\r\n0\r\n", Repeat("X-T: v\r\n", 4000),
                                  "\r\n")),
       431},
      // Floods of headers and body.
      {"HeaderCountFlood",
       absl::StrCat("GET / HTTP/1.1\r\nHost: localhost\r\n",
                    Repeat("X-A: b\r\n", 5000), "\r\n"),
       431},
      {"EmptyHeaderFlood",
       absl::StrCat("GET / HTTP/1.1\r\nHost: localhost\r\n", Repeat("X:\r\n", 8000),
                    "\r\n"),
       431},
      {"OneHugeHeader",
       absl::StrCat("GET / HTTP/1.1\r\nHost: localhost\r\nX-Big: ",
                    std::string(20000, 'b'), "\r\n\r\n"),
       431},
      {"HugeRequestLine",
       absl::StrCat("GET /", std::string(20000, 'a'),
                    " HTTP/1.1\r\nHost: localhost\r\n\r\n"),
       431},
      {"DeclaredBodyOverLimit", Post("Content-Length: 2000000\r\n", ""), 413},
      {"ChunkedBodyOverLimit",
       Post(chunked, Repeat(absl::StrCat("8000\r\n", std::string(0x8000, 'c'),
                                         "\r\n"),
                            40)),
       413},
  };
}

using Param = std::tuple<TargetKind, HostileRequest>;

class HostileRequestTest : public AttackFixture<Param> {};

// One exchange: the hostile bytes, everything the server answers until it
// closes (3 s at most).
TEST_P(HostileRequestTest, RefusedOnceAndClosed) {
  const auto& [kind, request] = GetParam();
  StartTargetOf(kind, {});
  absl::StatusOr<std::unique_ptr<RawTls>> c = RawTls::Connect(port());
  ASSERT_TRUE(c.ok()) << c.status();
  (void)(*c)->Write(request.bytes);  // The server may close mid-way.
  const absl::Time start = absl::Now();
  const std::string raw = (*c)->ReadUntilClose(absl::Seconds(3));
  EXPECT_LT(absl::Now() - start, absl::Seconds(3)) << "connection left open";
  std::vector<Reply> replies = ParseReplies(raw);
  ASSERT_EQ(replies.size(), 1u) << raw;
  EXPECT_EQ(replies[0].status, request.status) << replies[0].head;
  EXPECT_TRUE(absl::StrContains(replies[0].head, "Connection: close"))
      << replies[0].head;
  EXPECT_FALSE(absl::StrContains(raw, "/smuggled")) << raw;
  (*c)->Close();
  EXPECT_TRUE(target().Recovered());
}

using HttpAttackTest = AttackTest;

// Requests pipelined behind "Connection: close" (and behind an HTTP/1.0
// request) are never answered: one response, then the connection ends.
TEST_P(HttpAttackTest, NothingAnsweredAfterConnectionClose) {
  StartTarget();
  for (const std::string first :
       {"GET /first HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
        "GET /first HTTP/1.0\r\n\r\n"}) {
    absl::StatusOr<std::unique_ptr<RawTls>> c = RawTls::Connect(port());
    ASSERT_TRUE(c.ok()) << c.status();
    ASSERT_TRUE((*c)->Write(first + kSmuggled + kSmuggled).ok());
    const std::string raw = (*c)->ReadUntilClose(absl::Seconds(3));
    std::vector<Reply> replies = ParseReplies(raw);
    ASSERT_EQ(replies.size(), 1u) << raw;
    EXPECT_EQ(replies[0].status, 200);
    EXPECT_TRUE(absl::StrContains(replies[0].body, "/first")) << raw;
    EXPECT_FALSE(absl::StrContains(raw, "/smuggled")) << raw;
  }
  EXPECT_TRUE(target().Recovered());
}

INSTANTIATE_TEST_SUITE_P(Targets, HttpAttackTest, BothTargets(),
                         TargetParamName);

INSTANTIATE_TEST_SUITE_P(
    Requests, HostileRequestTest,
    ::testing::Combine(BothTargets(), ::testing::ValuesIn(Cases())),
    [](const ::testing::TestParamInfo<Param>& info) {
      return TargetName(std::get<0>(info.param)) + "_" +
             std::get<1>(info.param).name;
    });

}  // namespace
}  // namespace sslshim::adversarial
