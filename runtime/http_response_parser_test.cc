#include "runtime/http_response_parser.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/status_matchers.h"

namespace sslshim::runtime {
namespace {

using ::sslshim::testing::IsOk;
using ::sslshim::testing::StatusIs;
using ::testing::HasSubstr;

// Parse feeds `wire` in pieces of `step` bytes, then EOF if not done.
absl::StatusOr<ParsedResponse> Parse(absl::string_view wire, size_t step = 1 << 20,
                                     HttpResponseParser::Options options = {}) {
  HttpResponseParser parser(options);
  for (size_t i = 0; i < wire.size() && !parser.done(); i += step) {
    absl::Status s = parser.Feed(wire.substr(i, step));
    if (!s.ok()) return s;
  }
  if (!parser.done()) {
    absl::Status s = parser.FinishAtEof();
    if (!s.ok()) return s;
  }
  return parser.TakeResponse();
}

class SplitTest : public ::testing::TestWithParam<size_t> {};

TEST_P(SplitTest, ContentLength) {
  ASSERT_OK_AND_ASSIGN(
      ParsedResponse r,
      Parse("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n"
            "X-Multi: a\r\nx-multi: b\r\n\r\nhelloEXTRA",
            GetParam()));
  EXPECT_EQ(r.status_code, 200);
  EXPECT_EQ(r.reason, "OK");
  EXPECT_EQ(r.http_major, 1);
  EXPECT_EQ(r.http_minor, 1);
  EXPECT_EQ(r.body, "hello");  // Bytes after the response are ignored.
  EXPECT_EQ(r.headers.Get("content-type"), "text/plain");
  EXPECT_EQ(r.headers.Get("X-MULTI"), "a, b");
  EXPECT_TRUE(r.keep_alive);
}

TEST_P(SplitTest, Chunked) {
  ASSERT_OK_AND_ASSIGN(
      ParsedResponse r,
      Parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            "5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\nTrailer: x\r\n\r\n",
            GetParam()));
  EXPECT_EQ(r.body, "hello, world");
}

TEST_P(SplitTest, ReadUntilClose) {
  ASSERT_OK_AND_ASSIGN(ParsedResponse r,
                       Parse("HTTP/1.0 200 ok\r\nContent-type: text/html\r\n\r\n"
                             "<HTML>body</HTML>",
                             GetParam()));
  EXPECT_EQ(r.http_minor, 0);
  EXPECT_EQ(r.body, "<HTML>body</HTML>");
  EXPECT_FALSE(r.keep_alive);
}

TEST_P(SplitTest, InterimResponsesAreSkipped) {
  ASSERT_OK_AND_ASSIGN(
      ParsedResponse r,
      Parse("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
            "HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok",
            GetParam()));
  EXPECT_EQ(r.status_code, 201);
  EXPECT_EQ(r.reason, "Created");
  EXPECT_FALSE(r.headers.Contains("Link"));
  EXPECT_EQ(r.body, "ok");
}

INSTANTIATE_TEST_SUITE_P(Steps, SplitTest, ::testing::Values(1, 3, 1 << 20));

TEST(HttpResponseParserTest, NoBodyFor204And304AndHead) {
  ASSERT_OK_AND_ASSIGN(ParsedResponse r204,
                       Parse("HTTP/1.1 204 No Content\r\n\r\nGARBAGE"));
  EXPECT_EQ(r204.body, "");
  ASSERT_OK_AND_ASSIGN(ParsedResponse r304,
                       Parse("HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n"));
  EXPECT_EQ(r304.status_code, 304);
  EXPECT_EQ(r304.body, "");
  ASSERT_OK_AND_ASSIGN(ParsedResponse head,
                       Parse("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n", 1 << 20,
                             {.head_request = true}));
  EXPECT_EQ(head.headers.Get("Content-Length"), "1000");
  EXPECT_EQ(head.body, "");
}

TEST(HttpResponseParserTest, MalformedIsDataLossNamingTheError) {
  struct Case {
    const char* wire;
    const char* error;
  } cases[] = {
      {"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
       "HPE_UNEXPECTED_CONTENT_LENGTH"},
      {"HTTP/1.1 200 OK\r\nX: a\rb\r\n\r\n", "HPE_LF_EXPECTED"},
      {"HTTP/1.1 2x0 OK\r\n\r\n", "HPE_INVALID_STATUS"},
      {"HTTP/x.1 200 OK\r\n\r\n", "HPE_INVALID_VERSION"},
      {"HTTP/1.1 200 OK\r\nBad Header\r\n\r\n", "HPE_INVALID_HEADER_TOKEN"},
      {"HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\n", "HPE_INVALID_CONTENT_LENGTH"},
      {"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
       "HPE_UNEXPECTED_CONTENT_LENGTH"},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
       "HPE_INVALID_CHUNK_SIZE"},
      {"garbage\r\n\r\n", "HPE_INVALID_CONSTANT"},
  };
  for (const Case& c : cases) {
    EXPECT_THAT(Parse(c.wire),
                StatusIs(absl::StatusCode::kDataLoss,
                         ::testing::AllOf(HasSubstr("malformed HTTP response"),
                                          HasSubstr(c.error))))
        << c.wire;
  }
}

TEST(HttpResponseParserTest, Unexpected101) {
  EXPECT_THAT(Parse("HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n"
                    "Connection: upgrade\r\n\r\n"),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("101")));
}

TEST(HttpResponseParserTest, PrematureEof) {
  EXPECT_THAT(Parse(""), StatusIs(absl::StatusCode::kUnavailable,
                                  HasSubstr("without sending a response")));
  EXPECT_THAT(Parse("HTTP/1.1 200 OK\r\nContent-Le"),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("status line or headers")));
  EXPECT_THAT(Parse("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"),
              StatusIs(absl::StatusCode::kDataLoss,
                       HasSubstr("after 3 body bytes; Content-Length announced 10")));
  EXPECT_THAT(Parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab"),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("chunked body")));
}

TEST(HttpResponseParserTest, BodyLimit) {
  EXPECT_THAT(Parse("HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nhello world", 4,
                    {.max_body_bytes = 10}),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       HasSubstr("max_response_bytes (10 bytes)")));
  EXPECT_THAT(Parse("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhelloworld", 4,
                    {.max_body_bytes = 10}),
              IsOk());
  EXPECT_THAT(Parse("HTTP/1.0 200 OK\r\n\r\nhello world", 1, {.max_body_bytes = 10}),
              StatusIs(absl::StatusCode::kResourceExhausted));
}

// A hostile server announcing a body that can never fit is refused at the
// headers, not after reading it (regression: `Content-Length: 99999999999`
// kept the client reading).
TEST(HttpResponseParserTest, AnnouncedBodyOverTheLimitIsRefusedAtTheHeaders) {
  HttpResponseParser parser({.max_body_bytes = 1 << 20});
  EXPECT_THAT(parser.Feed("HTTP/1.1 200 OK\r\nContent-Length: 99999999999\r\n\r\n"),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       HasSubstr("Content-Length 99999999999 exceeds")));
}

// Endless "100 Continue" (regression: 47 MB read, no limit).
TEST(HttpResponseParserTest, EndlessInterimResponsesAreCutOff) {
  HttpResponseParser parser({});
  absl::Status s;
  int sent = 0;
  while (s.ok() && sent < 10000) {
    s = parser.Feed("HTTP/1.1 100 Continue\r\n\r\n");
    ++sent;
  }
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kResourceExhausted,
                          HasSubstr("interim (1xx) responses")));
  EXPECT_EQ(sent, HttpResponseParser::kMaxInterimResponses + 1);
  // A few interim responses are fine.
  EXPECT_THAT(Parse("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 102 Processing\r\n\r\n"
                    "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"),
              IsOk());
}

TEST(HttpResponseParserTest, HeaderOverflow) {
  std::string wire = "HTTP/1.1 200 OK\r\n";
  for (int i = 0; i < 2000; ++i)
    wire += "X-Filler: 0123456789012345678901234567890123456789\r\n";
  EXPECT_THAT(Parse(wire, 4096), StatusIs(absl::StatusCode::kResourceExhausted,
                                          HasSubstr("HPE_HEADER_OVERFLOW")));
}

TEST(HttpResponseParserTest, ErrorsAreSticky) {
  HttpResponseParser parser({});
  EXPECT_THAT(parser.Feed("nope\r\n"), StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(parser.Feed("HTTP/1.1 200 OK\r\n\r\n"),
              StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(parser.FinishAtEof(), StatusIs(absl::StatusCode::kDataLoss));
}

TEST(HttpResponseParserTest, FeedAfterDone) {
  HttpResponseParser parser({});
  ASSERT_OK(parser.Feed("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"));
  ASSERT_TRUE(parser.done());
  EXPECT_THAT(parser.Feed("x"), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_OK(parser.FinishAtEof());
}

}  // namespace
}  // namespace sslshim::runtime
