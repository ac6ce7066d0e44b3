// response_parser_fuzzer.cc: libFuzzer target for
// runtime/http_response_parser.h.
//
// Input: flags byte (bit 0: HEAD request, bit 1: 40-byte body limit, bit 2:
// the peer closes after the last byte), chunk byte (1..64 bytes per read),
// then the bytes a server sends. Each stream is read twice, in one read and
// in reads of `chunk` bytes. Contract: both reads give the same status and
// the same response; errors are DataLoss, Unavailable or ResourceExhausted
// (one line) and sticky; a complete response is final (not 1xx), its body
// is within the limit and empty for HEAD, 204 and 304; Feed after it is
// FailedPrecondition; no crash, leak or UB.

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "runtime/http_response_parser.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

using ::sslshim::fuzz::CheckCode;
using ::sslshim::runtime::HttpResponseParser;
using ::sslshim::runtime::ParsedResponse;

std::string Describe(const ParsedResponse& r) {
  std::string s = absl::StrCat(r.status_code, " '", r.reason, "' ", r.http_major, ".",
                               r.http_minor, " ka=", r.keep_alive);
  for (const auto& [name, value] : r.headers.fields()) {
    absl::StrAppend(&s, " {", name, ": ", value, "}");
  }
  absl::StrAppend(&s, " body=", r.body);
  return s;
}

// Read returns the final status code (as text) and the response, if any.
std::string Read(absl::string_view stream, HttpResponseParser::Options options, bool eof,
                 size_t chunk) {
  HttpResponseParser parser(options);
  absl::Status s;
  for (size_t pos = 0; pos < stream.size() && !parser.done() && s.ok(); pos += chunk) {
    s = parser.Feed(stream.substr(pos, chunk));
  }
  if (s.ok() && !parser.done() && eof) s = parser.FinishAtEof();
  CheckCode(s,
            {absl::StatusCode::kDataLoss, absl::StatusCode::kUnavailable,
             absl::StatusCode::kResourceExhausted},
            "HttpResponseParser");
  if (!s.ok()) {
    FUZZ_CHECK(!parser.done(), "done after an error");
    FUZZ_CHECK(parser.Feed("HTTP/1.1 200 OK\r\n\r\n") == s && parser.FinishAtEof() == s,
               "an error was not sticky");
    return s.ToString();
  }
  if (!parser.done()) return "incomplete";
  FUZZ_CHECK(parser.Feed("x").code() == absl::StatusCode::kFailedPrecondition,
             "Feed after done was not FailedPrecondition");
  FUZZ_CHECK(parser.FinishAtEof().ok(), "FinishAtEof after done failed");
  ParsedResponse r = parser.TakeResponse();
  FUZZ_CHECK(r.status_code / 100 != 1, "an interim response was returned");
  FUZZ_CHECK(r.body.size() <= options.max_body_bytes, "body over the limit");
  if (options.head_request || r.status_code == 204 || r.status_code == 304) {
    FUZZ_CHECK(r.body.empty(), "a body on a HEAD, 204 or 304 response");
  }
  return Describe(r);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const sslshim::fuzz::StreamInput in = sslshim::fuzz::ReadStreamInput(data, size);
  HttpResponseParser::Options options;
  options.head_request = (in.flags & 1) != 0;
  options.max_body_bytes = (in.flags & 2) != 0 ? 40 : 1 << 20;
  const bool eof = (in.flags & 4) != 0;
  const std::string whole = Read(in.stream, options, eof, in.stream.size() + 1);
  const std::string split = Read(in.stream, options, eof, in.chunk);
  sslshim::fuzz::CheckSameReads(whole == split, in.chunk, whole, split);
  return 0;
}
