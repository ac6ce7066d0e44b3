#include "certstore/cli/args.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace sslshim::certstore::cli {

std::string Args::Value(const std::string& name, const std::string& fallback) const {
  auto range = values.equal_range(name);
  if (range.first == range.second) return fallback;
  return std::prev(range.second)->second;
}

bool Args::Has(const std::string& name) const {
  return values.count(name) > 0 || switches.count(name) > 0;
}

std::vector<std::string> Args::All(const std::string& name) const {
  std::vector<std::string> out;
  auto range = values.equal_range(name);
  for (auto it = range.first; it != range.second; ++it) out.push_back(it->second);
  return out;
}

absl::StatusOr<Args> ParseArgs(const std::vector<std::string>& args,
                               const std::set<std::string>& value_flags,
                               const std::set<std::string>& switch_flags) {
  Args out;
  bool flags_done = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (flags_done || !absl::StartsWith(a, "--") || a == "-") {
      out.positional.push_back(a);
      continue;
    }
    if (a == "--") {
      flags_done = true;
      continue;
    }
    std::string name = a.substr(2);
    absl::optional<std::string> value;
    size_t eq = name.find('=');
    if (eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    if (switch_flags.count(name)) {
      if (value.has_value()) {
        return absl::InvalidArgumentError(
            absl::StrCat("flag --", name, " takes no value"));
      }
      out.switches.insert(name);
    } else if (value_flags.count(name)) {
      if (!value.has_value()) {
        if (i + 1 >= args.size()) {
          return absl::InvalidArgumentError(
              absl::StrCat("flag --", name, " needs a value"));
        }
        value = args[++i];
      }
      out.values.emplace(name, *value);
    } else {
      return absl::InvalidArgumentError(absl::StrCat("unknown flag --", name));
    }
  }
  return out;
}

}  // namespace sslshim::certstore::cli
