// request_parser_fuzzer.cc: libFuzzer target for runtime/request_parser.h.
//
// Input: flags byte (bit 0: small limits), chunk byte (1..64 bytes per read),
// then the byte stream a client sends. The stream is served twice, the way
// the HTTPS server does (feed, take the request, feed what was not consumed),
// once in one read and once in reads of `chunk` bytes. Contract: both runs
// give the same requests and the same error; an error is 400/413/431/505 with
// a message and is sticky; every request returned consumed at least one byte
// and has a body within the limit; no crash, leak or UB. (Which error a bad
// request gets may depend on the reads when it has two faults: the size
// limits are counted per piece http-parser hands over, and the header scan
// sees a later fault in one big read before http-parser refuses an earlier
// one (a 505 version) in small reads. Both runs must refuse it after the
// same requests: what matters against smuggling is that no read pattern
// serves a request the other refuses.)

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "runtime/request_parser.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

using ::sslshim::runtime::HttpRequest;
using ::sslshim::runtime::RequestLimits;
using ::sslshim::runtime::RequestParser;

// Outcome is what one connection saw, comparable across read sizes.
struct Outcome {
  std::vector<std::string> requests;  // Each request, serialised.
  int error_status = 0;
  std::string error_message;

  // Same requests, and both refused or neither (see the banner: with two
  // faults, which status and message come first can depend on the reads).
  bool operator==(const Outcome& o) const {
    return requests == o.requests && (error_status == 0) == (o.error_status == 0);
  }
  std::string ToString() const {
    return absl::StrCat("[", absl::StrJoin(requests, " | "), "] error ", error_status,
                        " ", error_message);
  }
};

std::string Describe(const HttpRequest& r, bool keep_alive, bool expect) {
  std::string s = absl::StrCat(r.method, " ", r.target, " ", r.version_major, ".",
                               r.version_minor, " ka=", keep_alive, " expect=", expect);
  for (const auto& [name, value] : r.headers) {
    absl::StrAppend(&s, " {", name, ": ", value, "}");
  }
  absl::StrAppend(&s, " body=", r.body);
  return s;
}

Outcome Serve(absl::string_view stream, const RequestLimits& limits, size_t chunk) {
  Outcome out;
  RequestParser parser(limits);
  size_t pos = 0;                                    // Consumed.
  size_t received = std::min(chunk, stream.size());  // Read so far.
  bool expect = false;
  while (true) {
    if (pos == received) {
      if (received == stream.size()) break;  // EOF.
      received = std::min(received + chunk, stream.size());
    }
    const absl::string_view avail = stream.substr(pos, received - pos);
    size_t used = 12345;
    const RequestParser::Result r = parser.Feed(avail, &used);
    FUZZ_CHECK(used <= avail.size(), "Feed consumed more than it was given");
    pos += used;
    expect = parser.TakeExpectContinue() || expect;
    if (r == RequestParser::Result::kNeedMore) {
      FUZZ_CHECK(used == avail.size(), "kNeedMore left bytes unconsumed");
      continue;
    }
    if (r == RequestParser::Result::kError) {
      const int s = parser.error_status();
      FUZZ_CHECK(s == 400 || s == 413 || s == 431 || s == 505,
                 absl::StrCat("undocumented error status ", s));
      FUZZ_CHECK(!parser.error_message().empty(), "error without a message");
      size_t again = 1;
      FUZZ_CHECK(parser.Feed("GET / HTTP/1.0\r\n\r\n", &again) ==
                         RequestParser::Result::kError &&
                     again == 0,
                 "a dead parser accepted more bytes");
      out.error_status = s;
      out.error_message = parser.error_message();
      break;
    }
    FUZZ_CHECK(used > 0, "a request was returned without consuming a byte");
    FUZZ_CHECK(!parser.in_message(), "in_message after a complete request");
    const bool keep_alive = parser.keep_alive();
    HttpRequest req = parser.TakeRequest();
    FUZZ_CHECK(req.body.size() <= limits.max_body_bytes, "body over the limit");
    FUZZ_CHECK(!req.method.empty(), "request without a method");
    out.requests.push_back(Describe(req, keep_alive, expect));
    expect = false;
    if (!keep_alive) break;  // The server closes the connection.
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const sslshim::fuzz::StreamInput in = sslshim::fuzz::ReadStreamInput(data, size);
  RequestLimits limits;  // The server's defaults.
  if (in.flags & 1) limits = {.max_header_bytes = 200, .max_body_bytes = 40};
  const Outcome whole = Serve(in.stream, limits, in.stream.size() + 1);
  const Outcome split = Serve(in.stream, limits, in.chunk);
  sslshim::fuzz::CheckSameReads(whole == split, in.chunk, whole.ToString(),
                                split.ToString());
  return 0;
}
