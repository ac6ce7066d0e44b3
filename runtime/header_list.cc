#include "runtime/header_list.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_join.h"

namespace sslshim::runtime {

bool IsHttpToken(absl::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) &&
        !absl::StrContains("!#$%&'*+-.^_`|~", c)) {
      return false;
    }
  }
  return true;
}

void HeaderList::Add(std::string name, std::string value) {
  fields_.emplace_back(std::move(name), std::move(value));
}

void HeaderList::Set(absl::string_view name, std::string value) {
  auto first = std::find_if(fields_.begin(), fields_.end(), [&](const Field& f) {
    return absl::EqualsIgnoreCase(f.first, name);
  });
  if (first == fields_.end()) {
    fields_.emplace_back(std::string(name), std::move(value));
    return;
  }
  first->second = std::move(value);
  fields_.erase(std::remove_if(first + 1, fields_.end(),
                               [&](const Field& f) {
                                 return absl::EqualsIgnoreCase(f.first, name);
                               }),
                fields_.end());
}

size_t HeaderList::Remove(absl::string_view name) {
  const size_t before = fields_.size();
  fields_.erase(std::remove_if(fields_.begin(), fields_.end(),
                               [&](const Field& f) {
                                 return absl::EqualsIgnoreCase(f.first, name);
                               }),
                fields_.end());
  return before - fields_.size();
}

absl::optional<std::string> HeaderList::Get(absl::string_view name) const {
  std::vector<std::string> all = GetAll(name);
  if (all.empty()) return absl::nullopt;
  return absl::StrJoin(all, ", ");
}

std::vector<std::string> HeaderList::GetAll(absl::string_view name) const {
  std::vector<std::string> out;
  for (const Field& f : fields_) {
    if (absl::EqualsIgnoreCase(f.first, name)) out.push_back(f.second);
  }
  return out;
}

bool HeaderList::Contains(absl::string_view name) const {
  return std::any_of(fields_.begin(), fields_.end(), [&](const Field& f) {
    return absl::EqualsIgnoreCase(f.first, name);
  });
}

}  // namespace sslshim::runtime
