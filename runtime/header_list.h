// header_list.h
// -----------------------------------------------------------------------------
// HeaderList: HTTP header fields in the order they were sent or received, with
// case-insensitive lookup (the role of requests' CaseInsensitiveDict, keeping
// repeated fields).
//
//   HeaderList h = {{"Content-Type", "application/json"}, {"X-Trace", "1"}};
//   h.Add("Set-Cookie", "a=1");
//   h.Add("set-cookie", "b=2");
//   h.Get("content-type");   // "application/json"
//   h.Get("SET-COOKIE");     // "a=1, b=2" (repeats joined, as requests does)
//   h.GetAll("Set-Cookie");  // {"a=1", "b=2"}
//
// Thread-safety: a plain value; const methods may be called concurrently.

#ifndef SSLSHIM_RUNTIME_HEADER_LIST_H_
#define SSLSHIM_RUNTIME_HEADER_LIST_H_

#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/types/optional.h"

namespace sslshim::runtime {

// IsHttpToken is true when `s` is an RFC 9110 token (tchar+): what a method
// or a header field name must be. Anything else (empty, spaces, CR/LF) could
// inject a header or a second request.
bool IsHttpToken(absl::string_view s);

class HeaderList {
 public:
  using Field = std::pair<std::string, std::string>;

  HeaderList() = default;
  // Builds the list from (name, value) pairs, in order, keeping repeats.
  HeaderList(std::initializer_list<Field> fields) : fields_(fields) {}

  // Add appends a field (an existing field of the same name is kept).
  void Add(std::string name, std::string value);

  // Set replaces every field named `name` by one field at the position of
  // the first (or at the end when there was none).
  void Set(absl::string_view name, std::string value);

  // Remove drops every field named `name`; returns how many were dropped.
  size_t Remove(absl::string_view name);

  // Get returns the value of `name` (repeated fields joined with ", "), or
  // nullopt when absent. Names compare case-insensitively.
  absl::optional<std::string> Get(absl::string_view name) const;

  // GetAll returns every value of `name` in order (empty when absent).
  std::vector<std::string> GetAll(absl::string_view name) const;

  // Contains is true when at least one field is named `name`.
  bool Contains(absl::string_view name) const;

  // fields returns the fields as sent or received, names as spelled there.
  const std::vector<Field>& fields() const { return fields_; }
  size_t size() const { return fields_.size(); }
  bool empty() const { return fields_.empty(); }

 private:
  std::vector<Field> fields_;
};

}  // namespace sslshim::runtime

#endif  // SSLSHIM_RUNTIME_HEADER_LIST_H_
