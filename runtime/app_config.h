// app_config.h
// -----------------------------------------------------------------------------
// The app's configuration: an App Engine `app.yaml`-style YAML document,
// parsed with yaml-cpp.
//
//   absl::StatusOr<AppConfig> config = ParseAppConfig(R"(
//   runtime: python27
//   libraries:
//   - name: ssl
//     version: latest
//   env_variables:
//     PYTHONHTTPSVERIFY: 1
//   )");
//   if (absl::Status s = config->RequireSsl(); !s.ok()) return s;
//
// Recognised top-level keys (anything else is an error):
//   runtime          string, informational (e.g. python27)
//   api_version      scalar, informational
//   threadsafe       bool, informational
//   libraries        list of {name, version}; `ssl` enables the facade.
//                    Other library names are accepted and ignored.
//   env_variables    map of NAME: scalar; becomes the app's environment
//                    (in memory, never setenv); values are kept as written.
//   ca_bundle        string: default CA bundle path (SSL_CERT_FILE wins).
//   verify_env_name  string: the verify toggle's variable name
//                    (default PYTHONHTTPSVERIFY).
//
// `ssl` library versions and the TLS versions they offer (see
// TlsRangeForSslVersion):
//   latest   TLS 1.2 .. TLS 1.3 (App Engine's `latest` meant 2.7.11, i.e.
//            TLS 1.0 .. 1.2; this runtime's latest is the modern range)
//   2.7.11   TLS 1.0 .. TLS 1.2 (as App Engine documented it)
//   2.7      refused: App Engine's TLS 1.0-only library, deprecated there too
//
// Every error is InvalidArgument and starts with "<name>:<line>:" (1-based,
// from yaml-cpp's Mark) for malformed YAML, wrong types, unknown keys and
// duplicate keys.

#ifndef SSLSHIM_RUNTIME_APP_CONFIG_H_
#define SSLSHIM_RUNTIME_APP_CONFIG_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/optional.h"
#include "runtime/config_vars.h"
#include "shim/constants.h"
#include "shim/reader.h"

namespace sslshim::runtime {

// TlsRange is the protocol versions an `ssl` library version offers.
struct TlsRange {
  shim::TLSVersion minimum = shim::TLSVersion::TLSv1_2;
  shim::TLSVersion maximum = shim::TLSVersion::TLSv1_3;
};

// TlsRangeForSslVersion maps an `ssl` library version to its TLS range (see
// the table above). Errors: InvalidArgument naming the version and listing
// the accepted ones.
absl::StatusOr<TlsRange> TlsRangeForSslVersion(absl::string_view version);

// AppConfig is a parsed app.yaml. Plain data, copyable.
struct AppConfig {
  std::string runtime;       // "" when absent.
  bool ssl_enabled = false;  // A `libraries` entry named ssl exists.
  std::string ssl_version;   // As written, e.g. "latest".
  TlsRange tls;              // From ssl_version (default: latest).
  Env env_variables;         // The app's environment.
  absl::optional<std::string> ca_bundle;
  std::string verify_env_name = std::string(kHttpsVerifyVar);

  // RequireSsl returns OK when the ssl library is enabled, else
  // FailedPrecondition with a message that shows the two lines to add.
  absl::Status RequireSsl() const;
};

// ParseAppConfig parses `yaml`; `name` labels error messages (a path or
// "app.yaml"). An empty document is a valid config with nothing enabled.
// Errors: InvalidArgument "<name>:<line>: <what>" (see above).
absl::StatusOr<AppConfig> ParseAppConfig(absl::string_view yaml,
                                         absl::string_view name = "app.yaml");

// LoadAppConfig reads `source` (a path or a reader, at most 1 MiB) and
// parses it, naming it in errors by Source::Describe(). Errors: those of
// shim::ReadSource and ParseAppConfig.
absl::StatusOr<AppConfig> LoadAppConfig(const shim::Source& source);

}  // namespace sslshim::runtime

#endif  // SSLSHIM_RUNTIME_APP_CONFIG_H_
