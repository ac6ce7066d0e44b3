// request_parser.h
// -----------------------------------------------------------------------------
// RequestParser: incremental HTTP/1.x request parsing for one connection, over
// Debian's nodejs http-parser 2.9 (not hand-written), with the server's size
// limits. Bytes may arrive in any split; pipelined requests come out one at a
// time, in order.
//
//   RequestParser parser({.max_header_bytes = 16 << 10,
//                         .max_body_bytes = 1 << 20});
//   absl::string_view in = ...bytes read...;
//   while (!in.empty()) {
//     size_t used = 0;
//     RequestParser::Result r = parser.Feed(in, &used);
//     in.remove_prefix(used);
//     if (r == RequestParser::Result::kRequest) Serve(parser.TakeRequest());
//     else if (r == RequestParser::Result::kError) { Reply(parser.error_status()); break; }
//   }
//
// Thread-safety: one parser belongs to one connection (one thread).

#ifndef SSLSHIM_RUNTIME_REQUEST_PARSER_H_
#define SSLSHIM_RUNTIME_REQUEST_PARSER_H_

#include <http_parser.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "runtime/http_request.h"

namespace sslshim::runtime {

// RequestLimits bounds what one request may hold.
struct RequestLimits {
  // Request line plus header fields, in bytes. Beyond it: 431.
  size_t max_header_bytes = 16 << 10;
  // Decoded body (Content-Length or chunked). Beyond it: 413.
  size_t max_body_bytes = 1 << 20;
};

// ChunkedBodyDecoder decodes a chunked request body strictly (RFC 9112
// section 7.1): 1 to 16 hex digits, chunk extensions of at most
// kMaxChunkLineBytes, CRLF exactly where the grammar puts it, trailer
// fields counted against max_header_bytes and dropped. http-parser 2.9's
// default (non-strict) build accepts any two bytes after a chunk's data,
// which a stricter proxy in front would frame differently.
class ChunkedBodyDecoder {
 public:
  enum class Result { kNeedMore, kDone, kError };
  static constexpr size_t kMaxChunkLineBytes = 1024;

  explicit ChunkedBodyDecoder(const RequestLimits& limits) : limits_(limits) {}

  // Reset starts a new body.
  void Reset();
  // Feed decodes from `data` into `*body` up to the body's end, and stores
  // how many bytes it used in `*consumed`. kError: error_status() is 400
  // (malformed), 413 (a chunk would take the body over max_body_bytes) or
  // 431 (trailers over max_header_bytes); error_message() says which.
  Result Feed(absl::string_view data, size_t* consumed, std::string* body);

  int error_status() const { return error_status_; }
  const std::string& error_message() const { return error_message_; }

 private:
  enum class State { kSize, kExtension, kSizeLf, kData, kDataCr, kDataLf,
                     kTrailer, kTrailerLf };
  Result Fail(int status, std::string message);

  const RequestLimits limits_;
  State state_ = State::kSize;
  uint64_t size_ = 0;        // Chunk size being read, then bytes left.
  size_t digits_ = 0;        // Hex digits of the current size.
  size_t line_bytes_ = 0;    // Bytes of the current size line.
  size_t trailer_bytes_ = 0;
  size_t trailer_line_ = 0;  // Bytes of the current trailer line.
  int error_status_ = 0;
  std::string error_message_;
};

class RequestParser {
 public:
  enum class Result {
    kNeedMore,  // Every byte given was consumed; the request is incomplete.
    kRequest,   // A complete request is ready (TakeRequest); bytes after it
                // were not consumed.
    kError,     // Malformed or over a limit: reply error_status() and close.
  };

  explicit RequestParser(const RequestLimits& limits);
  RequestParser(const RequestParser&) = delete;
  RequestParser& operator=(const RequestParser&) = delete;

  // Feed parses from `data` up to the end of one request and stores in
  // `*consumed` how many bytes it used. After kError the parser is dead:
  // every later Feed returns kError again.
  Result Feed(absl::string_view data, size_t* consumed);

  // TakeRequest moves out the request completed by the last Feed (client and
  // peer are left for the caller to fill in).
  HttpRequest TakeRequest();

  // keep_alive: whether the completed request allows another on the same
  // connection (HTTP/1.1 without "Connection: close", or HTTP/1.0 with
  // "Connection: keep-alive"), and whether it upgrades (always closed).
  bool keep_alive() const { return keep_alive_; }

  // in_message is true from the first byte of a request until it completes.
  bool in_message() const { return in_message_; }

  // TakeExpectContinue returns true once when a request's headers asked for
  // "Expect: 100-continue" with a body to come; the caller sends
  // "HTTP/1.1 100 Continue" before reading the body.
  bool TakeExpectContinue();

  // error_status is 400 (malformed), 413 (body too large) or 431 (header too
  // large) after kError; error_message says what http-parser or the limit
  // check found ("HPE_INVALID_METHOD: invalid HTTP method").
  int error_status() const { return error_status_; }
  const std::string& error_message() const { return error_message_; }

 private:
  static int OnMessageBegin(http_parser* p);
  static int OnUrl(http_parser* p, const char* at, size_t len);
  static int OnHeaderField(http_parser* p, const char* at, size_t len);
  static int OnHeaderValue(http_parser* p, const char* at, size_t len);
  static int OnHeadersComplete(http_parser* p);
  static int OnBody(http_parser* p, const char* at, size_t len);
  static int OnMessageComplete(http_parser* p);
  static const http_parser_settings kSettings;

  // CountHeaderBytes adds `len` to the header budget; false (with the 431
  // recorded) when it is exceeded.
  bool CountHeaderBytes(size_t len);
  int Fail(int status, std::string message);
  // CheckFraming refuses (400) what could be framed two ways: header
  // names that are not tokens, values with control characters (obs-fold
  // included), more than one Transfer-Encoding, any coding but "chunked",
  // and Transfer-Encoding in HTTP/1.0. 0 when fine.
  int CheckFraming(const http_parser* p);
  Result FinishChunked(absl::string_view data, size_t used, size_t* consumed);
  // ScanForObsFold follows the header section of the current message in
  // `data` (http-parser joins folded lines silently and ends a line at CR +
  // any byte) and returns false at a line that starts with SP or HTAB
  // (obs-fold) or at a bare CR (RFC 9112 section 2.2), both refused with
  // 400, so no read pattern frames the request differently.
  bool ScanForObsFold(absl::string_view data);

  const RequestLimits limits_;
  http_parser parser_;
  HttpRequest request_;
  size_t header_bytes_ = 0;
  bool last_was_value_ = false;
  bool in_message_ = false;
  bool complete_ = false;
  bool keep_alive_ = false;
  bool expect_continue_ = false;
  bool dead_ = false;
  // The headers said chunked: the body is ChunkedBodyDecoder's, not
  // http-parser's (which is told to skip it).
  // Where ScanForObsFold is in the header section.
  enum class HeaderScan { kStart, kInLine, kInLineCr, kLineStart, kLineStartCr, kDone };
  HeaderScan scan_ = HeaderScan::kStart;
  bool chunked_ = false;
  bool decoding_chunks_ = false;
  ChunkedBodyDecoder chunks_;
  int error_status_ = 0;
  std::string error_message_;
};

}  // namespace sslshim::runtime

#endif  // SSLSHIM_RUNTIME_REQUEST_PARSER_H_
