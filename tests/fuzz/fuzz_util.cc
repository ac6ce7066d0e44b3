#include "tests/fuzz/fuzz_util.h"

#include <cstdio>
#include <cstdlib>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "openssl/err.h"

namespace sslshim::fuzz {

void Fail(const char* file, int line, absl::string_view what) {
  std::fprintf(stderr, "contract violated at %s:%d: %.*s\n", file, line,
               static_cast<int>(what.size()), what.data());
  std::abort();
}

void CheckCode(const absl::Status& status,
               std::initializer_list<absl::StatusCode> allowed, absl::string_view what) {
  if (status.ok()) return;
  bool found = false;
  for (absl::StatusCode code : allowed) found = found || status.code() == code;
  if (!found) {
    Fail(__FILE__, __LINE__,
         absl::StrCat(what, " returned an undocumented status: ", status.ToString()));
  }
  if (status.message().empty() || absl::StrContains(status.message(), '\n') ||
      absl::StrContains(status.message(), '\r')) {
    Fail(__FILE__, __LINE__,
         absl::StrCat(what,
                      " returned an empty or multi-line message: ", status.ToString()));
  }
}

void CheckErrorQueueEmpty(absl::string_view what) {
  const uint32_t err = ERR_peek_error();
  if (err == 0) return;
  char buf[256];
  ERR_error_string_n(err, buf, sizeof(buf));
  Fail(__FILE__, __LINE__,
       absl::StrCat(what, " left BoringSSL's error queue non-empty: ", buf));
}

uint8_t FuzzInput::Byte() {
  if (rest_.empty()) return 0;
  const uint8_t b = static_cast<uint8_t>(rest_[0]);
  rest_.remove_prefix(1);
  return b;
}

absl::string_view FuzzInput::Part() {
  const size_t at = rest_.find(kPartSeparator);
  if (at == absl::string_view::npos) return Rest();
  absl::string_view part = rest_.substr(0, at);
  rest_.remove_prefix(at + kPartSeparator.size());
  return part;
}

absl::string_view FuzzInput::Rest() {
  absl::string_view all = rest_;
  rest_ = absl::string_view();
  return all;
}

StreamInput ReadStreamInput(const uint8_t* data, size_t size) {
  FuzzInput in(data, size);
  StreamInput out;
  out.flags = in.Byte();
  out.chunk = 1 + in.Byte() % 64;
  out.stream = in.Rest();
  return out;
}

void CheckSameReads(bool same, size_t chunk, absl::string_view whole,
                    absl::string_view split) {
  if (same) return;
  Fail(__FILE__, __LINE__,
       absl::StrCat("one read and reads of ", chunk, " bytes differ:\n", whole, "\n",
                    split));
}

}  // namespace sslshim::fuzz
