// http_response_parser.h
// -----------------------------------------------------------------------------
// HttpResponseParser: reads one HTTP/1.x response from a byte stream with
// nodejs http-parser (Debian's libhttp-parser 2.9), for the HTTPS client.
// Handles Content-Length, chunked and read-until-close bodies, skips interim
// 1xx responses, and knows that HEAD, 204 and 304 responses have no body.
//
//   HttpResponseParser parser({.head_request = false, .max_body_bytes = 1 << 20});
//   while (!parser.done()) {
//     std::string chunk = ...read from the connection ("" at EOF)...;
//     absl::Status s = chunk.empty() ? parser.FinishAtEof() : parser.Feed(chunk);
//     if (!s.ok()) return s;
//   }
//   ParsedResponse response = parser.TakeResponse();
//
// Errors, one per kind of problem so callers can tell them apart:
//   DataLoss           malformed status line, header or chunk framing (the
//                      message names http-parser's error, e.g.
//                      HPE_INVALID_STATUS, and the byte offset); the peer
//                      closed the connection mid-response (truncated)
//   Unavailable        the peer closed the connection before sending any byte
//   ResourceExhausted  headers over http-parser's 80 KiB, a body over
//                      max_body_bytes (refused at the headers when
//                      Content-Length announces more), or more than
//                      kMaxInterimResponses interim 1xx responses (a server
//                      that sends endless "100 Continue")
//   FailedPrecondition Feed after done() or after an error
//
// Thread-safety: one parser per response, used by one thread. Not movable
// (http-parser keeps a pointer to it).

#ifndef SSLSHIM_RUNTIME_HTTP_RESPONSE_PARSER_H_
#define SSLSHIM_RUNTIME_HTTP_RESPONSE_PARSER_H_

#include <http_parser.h>

#include <cstddef>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "runtime/header_list.h"

namespace sslshim::runtime {

// ParsedResponse is a complete final (non-1xx) response.
struct ParsedResponse {
  int status_code = 0;
  std::string reason;  // As sent ("OK"); may be empty.
  int http_major = 1;
  int http_minor = 1;
  HeaderList headers;
  std::string body;  // Decoded from chunked transfer coding when chunked.
  // keep_alive: the server lets the connection carry another request
  // (HTTP/1.1 without "Connection: close", body not delimited by EOF).
  bool keep_alive = false;
};

class HttpResponseParser {
 public:
  // kMaxInterimResponses: interim (1xx) responses skipped before the final
  // one; more is a hostile or broken server.
  static constexpr int kMaxInterimResponses = 16;

  struct Options {
    // head_request: the request was HEAD, so the response has no body
    // whatever its headers say.
    bool head_request = false;
    // max_body_bytes: larger bodies fail with ResourceExhausted.
    size_t max_body_bytes = 32 << 20;
  };

  explicit HttpResponseParser(Options options);
  HttpResponseParser(const HttpResponseParser&) = delete;
  HttpResponseParser& operator=(const HttpResponseParser&) = delete;

  // Feed parses the next bytes of the stream. Bytes after the end of the
  // final response are ignored. Errors: see the banner.
  absl::Status Feed(absl::string_view data);

  // FinishAtEof tells the parser the peer closed the connection: completes a
  // read-until-close body, or fails (Unavailable / DataLoss) when the
  // response is incomplete.
  absl::Status FinishAtEof();

  // done is true once a complete final response has been parsed.
  bool done() const { return done_; }

  // bytes_fed counts every byte given to Feed (for error messages).
  size_t bytes_fed() const { return bytes_fed_; }

  // TakeResponse moves the parsed response out (call once done()).
  ParsedResponse TakeResponse() { return std::move(response_); }

 private:
  static int OnMessageBegin(http_parser* p);
  static int OnStatus(http_parser* p, const char* at, size_t len);
  static int OnHeaderField(http_parser* p, const char* at, size_t len);
  static int OnHeaderValue(http_parser* p, const char* at, size_t len);
  static int OnHeadersComplete(http_parser* p);
  static int OnBody(http_parser* p, const char* at, size_t len);
  static int OnMessageComplete(http_parser* p);

  // FlushField moves field_/value_ into the response's headers.
  void FlushField();
  // ParserError turns http-parser's errno into the status described above.
  absl::Status ParserError(size_t offset);

  Options options_;
  http_parser parser_;
  http_parser_settings settings_;
  ParsedResponse response_;
  // The header field being received; http-parser delivers names and values
  // in pieces. in_value_: the last header callback was for a value.
  std::string field_;
  std::string value_;
  bool in_value_ = false;
  bool headers_done_ = false;
  int interim_responses_ = 0;  // 1xx responses skipped so far.
  bool done_ = false;
  size_t bytes_fed_ = 0;
  absl::Status callback_error_;  // Set by a callback that stopped the parser.
  absl::Status sticky_error_;    // First error returned; repeated afterwards.
};

}  // namespace sslshim::runtime

#endif  // SSLSHIM_RUNTIME_HTTP_RESPONSE_PARSER_H_
