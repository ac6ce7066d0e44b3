// config_vars.h
// -----------------------------------------------------------------------------
// Every environment variable sslshim reads, declared in one table (name, type,
// default, description) and read in one place into an immutable ConfigVars,
// as gRPC's config_vars do. Nothing else in the project calls getenv (the
// facade's EnvReader reads a variable the app names on purpose).
//
//   // Production: the process environment, with the app's env_variables on
//   // top (see AppRuntime::Create in defaults.h).
//   absl::StatusOr<ConfigVars> vars = ConfigVars::FromEnvironment(
//       ProcessEnvironment(), /*verify_env_name=*/"PYTHONHTTPSVERIFY");
//   // Tests: a map, never the process environment.
//   absl::StatusOr<ConfigVars> vars = ConfigVars::FromEnvironment(
//       {{"PYTHONHTTPSVERIFY", "0"}, {"SSL_CERT_FILE", "/tmp/ca.pem"}});
//
// The README's table of variables is ConfigVarsMarkdown(): regenerate it
// from the table rather than editing it by hand.

#ifndef SSLSHIM_RUNTIME_CONFIG_VARS_H_
#define SSLSHIM_RUNTIME_CONFIG_VARS_H_

#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/optional.h"
#include "absl/types/span.h"
#include "shim/secure_bytes.h"

namespace sslshim::runtime {

// Env is an environment: variable name to value. The app's environment is
// one of these (in memory; the runtime never calls setenv).
using Env = std::map<std::string, std::string>;

// ConfigVarType says how a variable's value is interpreted.
enum class ConfigVarType { kString, kPath, kBool01, kKey32, kUrl };

// ConfigVarSpec declares one environment variable.
struct ConfigVarSpec {
  absl::string_view name;
  ConfigVarType type;
  absl::string_view default_value;  // As documented; "" = unset.
  absl::string_view description;
};

// Names of the variables in the table.
inline constexpr absl::string_view kHttpsVerifyVar = "PYTHONHTTPSVERIFY";
inline constexpr absl::string_view kSslCertFileVar = "SSL_CERT_FILE";
inline constexpr absl::string_view kKekVar = "SSLSHIM_KEK";
inline constexpr absl::string_view kStoreVar = "SSLSHIM_STORE";

// kDefaultCaBundle is the default CA bundle path (App Engine's).
inline constexpr absl::string_view kDefaultCaBundle = "/etc/ca-certificates.crt";
// kDefaultStoreUrl is the default certificate store (embedded LMDB).
inline constexpr absl::string_view kDefaultStoreUrl = "lmdb:/var/lib/sslshim/store";

// ConfigVarTable returns every variable the project reads, in README order.
// The verify toggle is listed under its default name; its name can be changed
// by the app config (`verify_env_name`), which reads that name instead.
absl::Span<const ConfigVarSpec> ConfigVarTable();

// ConfigVarsMarkdown renders ConfigVarTable() as a Markdown table
// (| Variable | Type | Default | Description |) for the README.
std::string ConfigVarsMarkdown();

// ProcessEnvironment reads every variable of ConfigVarTable() (and
// `verify_env_name` when it differs from the default) from the process
// environment with getenv; unset variables are absent from the result. This
// is the project's only getenv call.
Env ProcessEnvironment(absl::string_view verify_env_name = kHttpsVerifyVar);

// ConfigVars: the parsed values of the table's variables. Immutable and
// cheap to copy (the KEK is shared, wiped when the last copy goes).
class ConfigVars {
 public:
  // FromEnvironment reads the table's variables from `env` (extra entries
  // are ignored). `verify_env_name` is the name under which the verify toggle
  // is read (see VerifyPolicy). Errors (InvalidArgument, naming the variable
  // but never a key's value): SSLSHIM_KEK that is not 32 bytes as 64 hex
  // digits or base64; an empty SSL_CERT_FILE or SSLSHIM_STORE; an invalid
  // `verify_env_name`. The toggle's value is checked by VerifyPolicy.
  static absl::StatusOr<ConfigVars> FromEnvironment(
      const Env& env, absl::string_view verify_env_name = kHttpsVerifyVar);

  // verify_env_name is the name the verify toggle is read under.
  const std::string& verify_env_name() const { return verify_env_name_; }
  // https_verify is the toggle's raw value, absent when unset.
  const absl::optional<std::string>& https_verify() const { return https_verify_; }
  // ssl_cert_file is SSL_CERT_FILE, absent when unset.
  const absl::optional<std::string>& ssl_cert_file() const { return ssl_cert_file_; }
  // kek is SSLSHIM_KEK decoded to its 32 bytes, or nullptr when unset.
  const std::shared_ptr<const shim::SecureBytes>& kek() const { return kek_; }
  // store_url is SSLSHIM_STORE or kDefaultStoreUrl.
  const std::string& store_url() const { return store_url_; }

 private:
  ConfigVars() = default;

  std::string verify_env_name_;
  absl::optional<std::string> https_verify_;
  absl::optional<std::string> ssl_cert_file_;
  std::shared_ptr<const shim::SecureBytes> kek_;
  std::string store_url_;
};

// IsValidEnvName reports whether `name` is a portable environment variable
// name: [A-Za-z_][A-Za-z0-9_]*.
bool IsValidEnvName(absl::string_view name);

}  // namespace sslshim::runtime

#endif  // SSLSHIM_RUNTIME_CONFIG_VARS_H_
