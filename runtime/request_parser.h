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
  int error_status_ = 0;
  std::string error_message_;
};

}  // namespace sslshim::runtime

#endif  // SSLSHIM_RUNTIME_REQUEST_PARSER_H_
