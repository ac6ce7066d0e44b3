// fuzz_util.h
// -----------------------------------------------------------------------------
// What the libFuzzer targets in tests/fuzz share: contract checks that say
// what broke and abort (libFuzzer then saves the input as crash-<sha1>), and
// FuzzInput, which splits one fuzz input into control bytes and parts.
//
//   FuzzInput in(data, size);
//   uint8_t mode = in.Byte();           // 0 when the input is used up
//   absl::string_view a = in.Part();    // up to the next kPartSeparator
//   absl::string_view b = in.Rest();    // everything left
//   FUZZ_CHECK(a.size() <= size, "part longer than the input");
//   CheckCode(status, {absl::StatusCode::kInvalidArgument}, "ParseUrl");
//
// Seeds are written in the same layout (tests/fuzz/make_seeds.cc).

#ifndef SSLSHIM_TESTS_FUZZ_FUZZ_UTIL_H_
#define SSLSHIM_TESTS_FUZZ_FUZZ_UTIL_H_

#include <cstddef>
#include <cstdint>
#include <initializer_list>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace sslshim::fuzz {

// kPartSeparator separates the parts of a multi-part input.
inline constexpr absl::string_view kPartSeparator = "#|#";

// Fail prints "contract violated at FILE:LINE: WHAT" and aborts.
[[noreturn]] void Fail(const char* file, int line, absl::string_view what);

// FUZZ_CHECK aborts with `what` when `cond` is false.
#define FUZZ_CHECK(cond, what)                                    \
  do {                                                            \
    if (!(cond)) ::sslshim::fuzz::Fail(__FILE__, __LINE__, what); \
  } while (0)

// CheckCode aborts unless `status` is OK or has one of the `allowed` codes,
// or its message is empty or holds a line break (every error must be one
// readable line). `what` names the call in the report.
void CheckCode(const absl::Status& status,
               std::initializer_list<absl::StatusCode> allowed, absl::string_view what);

// CheckErrorQueueEmpty aborts when BoringSSL's error queue holds an entry
// (every project call must leave it clean).
void CheckErrorQueueEmpty(absl::string_view what);

// FuzzInput reads one fuzz input front to back.
class FuzzInput {
 public:
  FuzzInput(const uint8_t* data, size_t size)
      : rest_(reinterpret_cast<const char*>(data), size) {}

  // Byte returns the next byte, or 0 when none is left.
  uint8_t Byte();

  // Part returns the bytes up to the next kPartSeparator (which is
  // consumed), or all that is left when there is none.
  absl::string_view Part();

  // Rest returns everything not yet read.
  absl::string_view Rest();

  // empty is true when everything has been read.
  bool empty() const { return rest_.empty(); }

 private:
  absl::string_view rest_;
};

// StreamInput is the layout of the HTTP stream fuzzers: a flags byte, a
// read-size byte (1..64 bytes per read), then the byte stream.
struct StreamInput {
  uint8_t flags = 0;
  size_t chunk = 1;
  absl::string_view stream;
};

// ReadStreamInput splits a fuzz input laid out as StreamInput.
StreamInput ReadStreamInput(const uint8_t* data, size_t size);

// CheckSameReads aborts unless `same`, reporting that the stream read in one
// read gave `whole` and in reads of `chunk` bytes gave `split`.
void CheckSameReads(bool same, size_t chunk, absl::string_view whole,
                    absl::string_view split);

}  // namespace sslshim::fuzz

#endif  // SSLSHIM_TESTS_FUZZ_FUZZ_UTIL_H_
