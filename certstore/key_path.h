// key_path.h
// -----------------------------------------------------------------------------
// KeyPath names a record in a certificate store, the way a datastore key does:
// a list of (kind, id) pairs where a kind is a non-empty UTF-8 string and an id
// is either a non-empty UTF-8 string or a non-negative 64-bit integer.
//
// Every KeyPath has exactly one canonical string form, components joined by
// '/', each escaped so that it never contains '/':
//
//   KeyPath::Of({"Employee", "asalieri", "Address", 1})
//       <-> "Employee/asalieri/Address/1"
//   ("Employee", "1")        <-> "Employee/%31"      (string id "1", not int 1)
//   ("Dir", "a/b")           <-> "Dir/a%2Fb"
//   ("Name", "..")           <-> "Name/%2E%2E"       (dot segments never raw)
//   ("City", "Zürich")       <-> "City/Z%C3%BCrich"
//
// Escaping rules (see key_path.cc): bytes in [A-Za-z0-9._~-] are literal,
// every other byte is %XX with upper-case hex; a string that consists only of
// digits has its first digit escaped so it cannot be read as an integer; "."
// and ".." are fully escaped. Parse() accepts only canonical strings, so two
// different strings never name the same record.
//
// Ordering: for any path P, the canonical string of every descendant of P
// starts with P's canonical string followed by '/', and no other path's string
// does. Stores therefore list by prefix with a byte-wise range scan.
//
//   absl::StatusOr<KeyPath> p = KeyPath::Parse("Employee/asalieri");
//   KeyPath child = p->Child("Address", int64_t{1});
//   child.IsUnder(*p);  // true

#ifndef SSLSHIM_CERTSTORE_KEY_PATH_H_
#define SSLSHIM_CERTSTORE_KEY_PATH_H_

#include <cstdint>
#include <initializer_list>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/variant.h"

namespace sslshim::certstore {

// KeyId is a string id or an integer id. Integer ids are >= 0.
using KeyId = absl::variant<std::string, int64_t>;

// KeyElement is one (kind, id) pair of a KeyPath.
struct KeyElement {
  std::string kind;
  KeyId id;

  friend bool operator==(const KeyElement& a, const KeyElement& b) {
    return a.kind == b.kind && a.id == b.id;
  }
};

// KeyPath is an immutable, validated list of KeyElements. The empty path is
// the root: every path is under it. Copyable and cheap to move.
class KeyPath {
 public:
  // Limits enforced by Create() and Parse().
  // The canonical string is bounded so every backend can use it as a key
  // (LMDB's key limit is 511 bytes).
  static constexpr size_t kMaxElements = 32;
  static constexpr size_t kMaxCanonicalBytes = 500;

  // One argument of Of(): a string (kind or string id) or an integer id.
  struct Arg {
    Arg(const char* s) : value(std::string(s)) {}        // NOLINT
    Arg(std::string s) : value(std::move(s)) {}          // NOLINT
    Arg(absl::string_view s) : value(std::string(s)) {}  // NOLINT
    Arg(int i) : value(static_cast<int64_t>(i)) {}       // NOLINT
    Arg(int64_t i) : value(i) {}                         // NOLINT
    KeyId value;
  };

  // Root() returns the empty path.
  KeyPath() = default;
  static KeyPath Root() { return KeyPath(); }

  // Create() validates elements: kinds non-empty valid UTF-8, string ids
  // non-empty valid UTF-8, integer ids >= 0, at most kMaxElements pairs and
  // kMaxCanonicalBytes of canonical string. Errors: InvalidArgument naming the
  // offending element.
  static absl::StatusOr<KeyPath> Create(std::vector<KeyElement> elements);

  // Of() builds a path from alternating kinds and ids, as Python's
  // ndb.Key('Employee', 'asalieri', 'Address', 1). Errors: InvalidArgument
  // for an odd count, an integer kind, or any Create() error.
  static absl::StatusOr<KeyPath> Of(std::initializer_list<Arg> args);

  // Parse() reads a canonical string form. The empty string is the root.
  // Errors: InvalidArgument saying what is wrong and at which byte offset.
  static absl::StatusOr<KeyPath> Parse(absl::string_view text);

  // ToString() returns the canonical string form.
  const std::string& ToString() const { return canonical_; }

  const std::vector<KeyElement>& elements() const { return elements_; }
  bool empty() const { return elements_.empty(); }
  size_t size() const { return elements_.size(); }

  // IsUnder() is true when prefix is a (not necessarily proper) element-wise
  // prefix of this path. Every path is under the root.
  bool IsUnder(const KeyPath& prefix) const;

  // Child() returns this path extended by one pair. Errors as in Create().
  absl::StatusOr<KeyPath> Child(absl::string_view kind, KeyId id) const;

  // Concat() returns this path followed by `rest`. Errors as in Create().
  absl::StatusOr<KeyPath> Concat(const KeyPath& rest) const;

  // ToTupleString() renders Python-style: ('Employee', 'asalieri', 'Address', 1)
  std::string ToTupleString() const;

  friend bool operator==(const KeyPath& a, const KeyPath& b) {
    return a.canonical_ == b.canonical_;
  }
  friend bool operator!=(const KeyPath& a, const KeyPath& b) { return !(a == b); }
  friend bool operator<(const KeyPath& a, const KeyPath& b) {
    return a.canonical_ < b.canonical_;
  }
  friend std::ostream& operator<<(std::ostream& os, const KeyPath& p) {
    return os << "'" << p.canonical_ << "'";
  }

 private:
  explicit KeyPath(std::vector<KeyElement> elements);

  std::vector<KeyElement> elements_;
  std::string canonical_;
};

// DescendantRange() returns the half-open byte range [begin, end) of canonical
// strings of the proper descendants of `prefix` (all paths for the root).
// `end` is empty for "no upper bound".
struct KeyRange {
  std::string begin;
  std::string end;
};
KeyRange DescendantRange(const KeyPath& prefix);

// IsValidUtf8() is true when `s` is well-formed UTF-8 (no overlong forms, no
// surrogates, nothing above U+10FFFF): what key path components and JSON
// output strings must be.
bool IsValidUtf8(absl::string_view s);

}  // namespace sslshim::certstore

#endif  // SSLSHIM_CERTSTORE_KEY_PATH_H_
