// key_path_fuzzer.cc: libFuzzer target for certstore/key_path.h.
//
// Input: mode byte. Mode even: "a#|#b", two key path strings for Parse.
// Mode odd: parts alternating kind and id for Create (an id part "#N..." with
// only digits after '#' is the integer N). Contract: errors are
// InvalidArgument on one line; a parsed path prints back to exactly its
// input (one string per record) and is within the limits; a created path
// parses back to the same elements; IsUnder, operator< and DescendantRange
// agree with the canonical strings, as the stores' prefix scans assume.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "certstore/key_path.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

using ::sslshim::certstore::DescendantRange;
using ::sslshim::certstore::KeyElement;
using ::sslshim::certstore::KeyId;
using ::sslshim::certstore::KeyPath;
using ::sslshim::certstore::KeyRange;
using ::sslshim::fuzz::CheckCode;

void CheckPath(const KeyPath& p) {
  FUZZ_CHECK(p.size() <= KeyPath::kMaxElements, "too many elements");
  FUZZ_CHECK(p.ToString().size() <= KeyPath::kMaxCanonicalBytes,
             "canonical string too long");
  absl::StatusOr<KeyPath> parsed = KeyPath::Parse(p.ToString());
  FUZZ_CHECK(parsed.ok() && parsed->elements() == p.elements(),
             absl::StrCat("canonical string does not parse back: ", p.ToString()));
  absl::StatusOr<KeyPath> created = KeyPath::Create(p.elements());
  FUZZ_CHECK(created.ok() && *created == p, "elements do not create the path");
  p.ToTupleString();
  absl::StatusOr<KeyPath> child = p.Child("K", KeyId(int64_t{7}));
  if (child.ok()) {
    FUZZ_CHECK(child->IsUnder(p) && !p.IsUnder(*child), "child not under parent");
  }
}

// CheckOrder checks the prefix-scan promises for two valid paths.
void CheckOrder(const KeyPath& a, const KeyPath& b) {
  const std::string& as = a.ToString();
  const std::string& bs = b.ToString();
  const bool under = b.empty() || as == bs || absl::StartsWith(as, bs + "/");
  FUZZ_CHECK(a.IsUnder(b) == under, absl::StrCat("IsUnder disagrees: ", as, " ", bs));
  // The root names no record, so only other paths are checked against ranges.
  const KeyRange range = DescendantRange(b);
  const bool in_range = as >= range.begin && (range.end.empty() || as < range.end);
  FUZZ_CHECK(a.empty() || in_range == (under && as != bs),
             absl::StrCat("DescendantRange disagrees: ", as, " ", bs));
  FUZZ_CHECK((a < b) == (as < bs) && (a == b) == (as == bs),
             "ordering differs from the canonical strings");
}

KeyId IdOf(absl::string_view part) {
  int64_t v = 0;
  if (part.size() > 1 && part[0] == '#' && absl::SimpleAtoi(part.substr(1), &v)) {
    return KeyId(v);
  }
  return KeyId(std::string(part));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  sslshim::fuzz::FuzzInput in(data, size);
  if (in.Byte() % 2 == 0) {
    const absl::string_view a_text = in.Part();
    const absl::string_view b_text = in.Rest();
    absl::StatusOr<KeyPath> a = KeyPath::Parse(a_text);
    absl::StatusOr<KeyPath> b = KeyPath::Parse(b_text);
    CheckCode(a.status(), {absl::StatusCode::kInvalidArgument}, "KeyPath::Parse");
    CheckCode(b.status(), {absl::StatusCode::kInvalidArgument}, "KeyPath::Parse");
    if (a.ok()) {
      FUZZ_CHECK(a->ToString() == a_text, "Parse accepted a non-canonical string");
      CheckPath(*a);
    }
    if (b.ok()) CheckPath(*b);
    if (a.ok() && b.ok()) {
      CheckOrder(*a, *b);
      CheckOrder(*b, *a);
      absl::StatusOr<KeyPath> ab = a->Concat(*b);
      CheckCode(ab.status(), {absl::StatusCode::kInvalidArgument}, "Concat");
      if (ab.ok()) CheckOrder(*ab, *a);
    }
    return 0;
  }
  std::vector<KeyElement> elements;
  do {
    const absl::string_view kind = in.Part();
    const absl::string_view id = in.Part();
    elements.push_back(KeyElement{std::string(kind), IdOf(id)});
  } while (!in.empty() && elements.size() <= KeyPath::kMaxElements);
  absl::StatusOr<KeyPath> p = KeyPath::Create(elements);
  CheckCode(p.status(), {absl::StatusCode::kInvalidArgument}, "KeyPath::Create");
  if (p.ok()) {
    FUZZ_CHECK(p->elements() == elements, "Create changed the elements");
    CheckPath(*p);
  }
  return 0;
}
