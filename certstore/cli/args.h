// args.h
// -----------------------------------------------------------------------------
// A small, strict command-line parser for the store CLI: `--name value`,
// `--name=value`, boolean `--name`, repeated flags, and positionals in any
// order. Unknown flags are errors.
//
//   absl::StatusOr<Args> a = ParseArgs(argv_tail, {"store", "cert"}, {"json"});
//   std::string url = a->Value("store", "lmdb:./certstore-data");

#ifndef SSLSHIM_CERTSTORE_CLI_ARGS_H_
#define SSLSHIM_CERTSTORE_CLI_ARGS_H_

#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/optional.h"

namespace sslshim::certstore::cli {

// Args is the parsed command line.
struct Args {
  std::vector<std::string> positional;
  std::multimap<std::string, std::string> values;  // Flags taking a value.
  std::set<std::string> switches;                  // Boolean flags given.

  // Value() returns the last value of `name`, or `fallback`.
  std::string Value(const std::string& name, const std::string& fallback = "") const;
  // Has() is true when value flag or switch `name` was given.
  bool Has(const std::string& name) const;
  // All() returns every value of a repeated flag, in order.
  std::vector<std::string> All(const std::string& name) const;
};

// ParseArgs() parses `args` given the names of value flags and switches.
// "--" ends flag parsing. Errors: InvalidArgument naming the bad flag.
absl::StatusOr<Args> ParseArgs(const std::vector<std::string>& args,
                               const std::set<std::string>& value_flags,
                               const std::set<std::string>& switch_flags);

}  // namespace sslshim::certstore::cli

#endif  // SSLSHIM_CERTSTORE_CLI_ARGS_H_
