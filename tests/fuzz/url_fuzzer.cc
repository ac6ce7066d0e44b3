// url_fuzzer.cc: libFuzzer target for runtime/url.h (the HTTPS client's URL
// parsing and redirect resolution).
//
// Input: mode byte; mode even: the rest is a URL for ParseUrl; mode odd:
// "base#|#reference" for ResolveUrl (a base that does not parse is replaced
// by a fixed one). Contract: an error is InvalidArgument on one line with no
// control character; a parsed URL has scheme http/https, a non-empty host,
// a port in 1..65535, a target starting with '/' and no byte outside
// 0x21..0x7e, and parsing its ToString() gives the same URL back.

#include <cstddef>
#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "runtime/url.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

using ::sslshim::fuzz::CheckCode;
using ::sslshim::runtime::ParseUrl;
using ::sslshim::runtime::ResolveUrl;
using ::sslshim::runtime::Url;

bool Same(const Url& a, const Url& b) {
  return a.scheme == b.scheme && a.host == b.host && a.host_is_ip == b.host_is_ip &&
         a.port == b.port && a.default_port == b.default_port && a.target == b.target;
}

void Check(const absl::StatusOr<Url>& url, absl::string_view what) {
  CheckCode(url.status(), {absl::StatusCode::kInvalidArgument}, what);
  if (!url.ok()) {
    for (unsigned char c : url.status().message()) {
      FUZZ_CHECK(c >= 0x20 && c != 0x7f, "a control character in the message");
    }
    return;
  }
  FUZZ_CHECK(url->scheme == "http" || url->scheme == "https", "bad scheme");
  FUZZ_CHECK(!url->host.empty(), "empty host");
  FUZZ_CHECK(url->port >= 1 && url->port <= 65535, "port out of range");
  FUZZ_CHECK(!url->target.empty() && url->target[0] == '/',
             "target does not start with '/'");
  const std::string text = url->ToString();
  for (unsigned char c : text) {
    FUZZ_CHECK(c > 0x20 && c < 0x7f, absl::StrCat("unsendable byte in ", text));
  }
  absl::StatusOr<Url> again = ParseUrl(text);
  FUZZ_CHECK(again.ok() && Same(*url, *again),
             absl::StrCat("ToString() does not parse back: ", text));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  sslshim::fuzz::FuzzInput in(data, size);
  if (in.Byte() % 2 == 0) {
    Check(ParseUrl(in.Rest()), "ParseUrl");
    return 0;
  }
  absl::StatusOr<Url> base = ParseUrl(in.Part());
  if (!base.ok()) base = ParseUrl("https://a.example:8443/d/e/f?q=1");
  Check(ResolveUrl(*base, in.Rest()), "ResolveUrl");
  return 0;
}
