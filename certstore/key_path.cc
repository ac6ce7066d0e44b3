#include "certstore/key_path.h"

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace sslshim::certstore {
namespace {

bool IsUnreserved(unsigned char c) {
  return absl::ascii_isalnum(c) || c == '.' || c == '_' || c == '~' || c == '-';
}

bool AllDigits(absl::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

}  // namespace

bool IsValidUtf8(absl::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = s[i];
    size_t n;
    uint32_t cp;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      n = 1;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + n >= s.size()) return false;  // Truncated sequence.
    for (size_t k = 1; k <= n; ++k) {
      unsigned char cc = s[i + k];
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
        cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    i += n + 1;
  }
  return true;
}

namespace {

void EscapeString(absl::string_view s, std::string* out) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  const bool dots = (s == "." || s == "..");
  const bool digits = AllDigits(s);
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = s[i];
    if (IsUnreserved(c) && !dots && !(digits && i == 0)) {
      out->push_back(static_cast<char>(c));
    } else {
      out->push_back('%');
      out->push_back(kHex[c >> 4]);
      out->push_back(kHex[c & 0xF]);
    }
  }
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;  // Lower-case hex is not canonical.
}

absl::Status ComponentError(absl::string_view what, size_t index,
                            absl::string_view detail) {
  return absl::InvalidArgumentError(
      absl::StrCat("invalid key path: ", what, " of element ", index + 1, " ", detail));
}

absl::Status ValidateString(absl::string_view what, size_t index, absl::string_view s) {
  if (s.empty()) return ComponentError(what, index, "is empty");
  if (!IsValidUtf8(s)) return ComponentError(what, index, "is not valid UTF-8");
  return absl::OkStatus();
}

absl::Status ParseError(absl::string_view text, size_t offset, absl::string_view detail) {
  return absl::InvalidArgumentError(absl::StrCat("invalid key path string \"",
                                                 absl::CEscape(text.substr(0, 200)),
                                                 "\" at byte ", offset, ": ", detail));
}

// Decodes one escaped segment starting at text offset `base`.
absl::StatusOr<KeyId> ParseSegment(absl::string_view text, size_t base,
                                   absl::string_view seg, bool is_kind) {
  if (seg.empty()) return ParseError(text, base, "empty segment");
  if (seg == "." || seg == "..") {
    return ParseError(text, base, "dot segments are not allowed (escape as %2E)");
  }
  if (AllDigits(seg)) {
    if (is_kind) return ParseError(text, base, "a kind cannot be an integer");
    if (seg.size() > 1 && seg[0] == '0') {
      return ParseError(text, base, "integer id has a leading zero");
    }
    int64_t v;
    if (!absl::SimpleAtoi(seg, &v)) {
      return ParseError(text, base, "integer id out of range");
    }
    return KeyId(v);
  }
  std::string out;
  for (size_t i = 0; i < seg.size(); ++i) {
    char c = seg[i];
    if (c == '%') {
      if (i + 2 >= seg.size()) {
        return ParseError(text, base + i, "truncated %-escape");
      }
      int hi = HexValue(seg[i + 1]), lo = HexValue(seg[i + 2]);
      if (hi < 0 || lo < 0) {
        return ParseError(text, base + i, "%-escape must be two upper-case hex digits");
      }
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (IsUnreserved(static_cast<unsigned char>(c))) {
      out.push_back(c);
    } else {
      return ParseError(
          text, base + i,
          absl::StrCat("character '", absl::CEscape({&c, 1}), "' must be %-escaped"));
    }
  }
  // Canonical check: re-escaping must give back the same segment.
  std::string again;
  EscapeString(out, &again);
  if (again != seg) {
    return ParseError(
        text, base,
        absl::StrCat("not in canonical form (expected \"", absl::CEscape(again), "\")"));
  }
  return KeyId(std::move(out));
}

}  // namespace

KeyPath::KeyPath(std::vector<KeyElement> elements) : elements_(std::move(elements)) {
  for (const KeyElement& e : elements_) {
    if (!canonical_.empty()) canonical_.push_back('/');
    EscapeString(e.kind, &canonical_);
    canonical_.push_back('/');
    if (const int64_t* i = absl::get_if<int64_t>(&e.id)) {
      absl::StrAppend(&canonical_, *i);
    } else {
      EscapeString(absl::get<std::string>(e.id), &canonical_);
    }
  }
}

absl::StatusOr<KeyPath> KeyPath::Create(std::vector<KeyElement> elements) {
  if (elements.size() > kMaxElements) {
    return absl::InvalidArgumentError(absl::StrCat(
        "invalid key path: ", elements.size(), " elements (limit ", kMaxElements, ")"));
  }
  for (size_t i = 0; i < elements.size(); ++i) {
    absl::Status s = ValidateString("kind", i, elements[i].kind);
    if (!s.ok()) return s;
    if (const int64_t* v = absl::get_if<int64_t>(&elements[i].id)) {
      if (*v < 0) return ComponentError("id", i, "is a negative integer");
    } else {
      s = ValidateString("id", i, absl::get<std::string>(elements[i].id));
      if (!s.ok()) return s;
    }
  }
  KeyPath path(std::move(elements));
  if (path.canonical_.size() > kMaxCanonicalBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid key path: canonical form is ", path.canonical_.size(),
                     " bytes (limit ", kMaxCanonicalBytes, ")"));
  }
  return path;
}

absl::StatusOr<KeyPath> KeyPath::Of(std::initializer_list<Arg> args) {
  if (args.size() % 2 != 0) {
    return absl::InvalidArgumentError(
        "invalid key path: needs (kind, id) pairs, got an odd count");
  }
  std::vector<KeyElement> elements;
  for (auto it = args.begin(); it != args.end(); it += 2) {
    const std::string* kind = absl::get_if<std::string>(&it->value);
    if (kind == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(
          "invalid key path: kind of element ", elements.size() + 1, " is an integer"));
    }
    elements.push_back(KeyElement{*kind, (it + 1)->value});
  }
  return Create(std::move(elements));
}

absl::StatusOr<KeyPath> KeyPath::Parse(absl::string_view text) {
  if (text.empty()) return KeyPath();
  if (text.size() > kMaxCanonicalBytes) {
    return ParseError(text, kMaxCanonicalBytes,
                      absl::StrCat("longer than ", kMaxCanonicalBytes, " bytes"));
  }
  std::vector<absl::string_view> segs = absl::StrSplit(text, '/');
  if (segs.size() % 2 != 0) {
    return ParseError(text, text.size(),
                      "needs kind/id pairs, got an odd number of segments");
  }
  std::vector<KeyElement> elements;
  size_t offset = 0;
  for (size_t i = 0; i < segs.size(); i += 2) {
    absl::StatusOr<KeyId> kind = ParseSegment(text, offset, segs[i], true);
    if (!kind.ok()) return kind.status();
    offset += segs[i].size() + 1;
    absl::StatusOr<KeyId> id = ParseSegment(text, offset, segs[i + 1], false);
    if (!id.ok()) return id.status();
    offset += segs[i + 1].size() + 1;
    elements.push_back(
        KeyElement{std::move(absl::get<std::string>(*kind)), std::move(*id)});
  }
  return Create(std::move(elements));
}

bool KeyPath::IsUnder(const KeyPath& prefix) const {
  if (prefix.elements_.size() > elements_.size()) return false;
  for (size_t i = 0; i < prefix.elements_.size(); ++i) {
    if (!(elements_[i] == prefix.elements_[i])) return false;
  }
  return true;
}

absl::StatusOr<KeyPath> KeyPath::Child(absl::string_view kind, KeyId id) const {
  std::vector<KeyElement> e = elements_;
  e.push_back(KeyElement{std::string(kind), std::move(id)});
  return Create(std::move(e));
}

absl::StatusOr<KeyPath> KeyPath::Concat(const KeyPath& rest) const {
  std::vector<KeyElement> e = elements_;
  e.insert(e.end(), rest.elements_.begin(), rest.elements_.end());
  return Create(std::move(e));
}

std::string KeyPath::ToTupleString() const {
  std::vector<std::string> parts;
  for (const KeyElement& e : elements_) {
    parts.push_back(absl::StrCat("'", absl::CEscape(e.kind), "'"));
    if (const int64_t* i = absl::get_if<int64_t>(&e.id)) {
      parts.push_back(absl::StrCat(*i));
    } else {
      parts.push_back(
          absl::StrCat("'", absl::CEscape(absl::get<std::string>(e.id)), "'"));
    }
  }
  return absl::StrCat("(", absl::StrJoin(parts, ", "), ")");
}

KeyRange DescendantRange(const KeyPath& prefix) {
  if (prefix.empty()) return KeyRange{"", ""};
  // '0' is the byte after '/', and '/' never appears inside a segment.
  return KeyRange{prefix.ToString() + "/", prefix.ToString() + "0"};
}

}  // namespace sslshim::certstore
