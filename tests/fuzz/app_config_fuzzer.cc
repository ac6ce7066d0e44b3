// app_config_fuzzer.cc: libFuzzer target for runtime/app_config.h
// (ParseAppConfig over yaml-cpp).
//
// Input: the app.yaml bytes. Contract: every document ends in a config or an
// InvalidArgument "app.yaml:<line>: <what>" on one line, with <line> between
// 1 and the document's line count + 1 (no yaml-cpp exception escapes); a
// parsed config's ssl version is one of the accepted ones, its variable
// names are valid, and RequireSsl agrees with ssl_enabled; no crash, leak
// or UB.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "runtime/app_config.h"
#include "runtime/config_vars.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

using ::sslshim::runtime::AppConfig;
using ::sslshim::runtime::IsValidEnvName;
using ::sslshim::runtime::ParseAppConfig;

void CheckErrorLine(absl::string_view yaml, absl::string_view message) {
  FUZZ_CHECK(absl::StartsWith(message, "app.yaml:"),
             absl::StrCat("message does not name the file: ", message));
  absl::string_view rest = message.substr(9);
  const size_t colon = rest.find(':');
  int line = 0;
  FUZZ_CHECK(
      colon != absl::string_view::npos && absl::SimpleAtoi(rest.substr(0, colon), &line),
      absl::StrCat("message has no line number: ", message));
  const int lines = 1 + static_cast<int>(std::count(yaml.begin(), yaml.end(), '\n'));
  FUZZ_CHECK(line >= 1 && line <= lines + 1,
             absl::StrCat("line ", line, " outside 1..", lines + 1, ": ", message));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view yaml(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<AppConfig> config = ParseAppConfig(yaml, "app.yaml");
  sslshim::fuzz::CheckCode(config.status(), {absl::StatusCode::kInvalidArgument},
                           "ParseAppConfig");
  if (!config.ok()) {
    CheckErrorLine(yaml, config.status().message());
    return 0;
  }
  FUZZ_CHECK(config->RequireSsl().ok() == config->ssl_enabled,
             "RequireSsl disagrees with ssl_enabled");
  if (config->ssl_enabled) {
    FUZZ_CHECK(config->ssl_version == "latest" || config->ssl_version == "2.7.11",
               absl::StrCat("accepted ssl version ", config->ssl_version));
  }
  FUZZ_CHECK(IsValidEnvName(config->verify_env_name), "invalid verify_env_name");
  for (const auto& [name, value] : config->env_variables) {
    FUZZ_CHECK(IsValidEnvName(name), absl::StrCat("invalid variable name ", name));
  }
  if (config->ca_bundle.has_value()) {
    FUZZ_CHECK(!config->ca_bundle->empty(), "empty ca_bundle accepted");
  }
  return 0;
}
