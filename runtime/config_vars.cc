#include "runtime/config_vars.h"

#include <cstdlib>
#include <string>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"

namespace sslshim::runtime {
namespace {

constexpr ConfigVarSpec kTable[] = {
    {kHttpsVerifyVar, ConfigVarType::kBool01, "",
     "Verify toggle for client-side default contexts (wrap_socket without "
     "cert_reqs, create_default_context, the HTTPS client's default). Unset "
     "or 1: verify the peer against the default CA bundle and check the "
     "hostname. 0: do not verify (one warning is logged). Anything else is "
     "an error. An explicit cert_reqs=/verify= always wins. The name is set "
     "by `verify_env_name` in app.yaml."},
    {kSslCertFileVar, ConfigVarType::kPath, kDefaultCaBundle,
     "Default CA bundle (PEM). Overrides `ca_bundle` in app.yaml; re-read "
     "when the file changes."},
    {kKekVar, ConfigVarType::kKey32, "",
     "Key-encryption key that seals private keys in the certificate store: "
     "32 bytes as 64 hex digits or base64. Never logged."},
    {kStoreVar, ConfigVarType::kUrl, kDefaultStoreUrl,
     "Certificate store URL: `lmdb:DIR`, `redis://[USER[:PASS]@]HOST:PORT"
     "[/DB][?namespace=NS]`, `redis-sentinel://[USER[:PASS]@]HOST:PORT"
     "[,HOST:PORT...]/MASTER[?...]` or `memory:`."},
};

absl::string_view TypeName(ConfigVarType type) {
  switch (type) {
    case ConfigVarType::kString:
      return "string";
    case ConfigVarType::kPath:
      return "path";
    case ConfigVarType::kBool01:
      return "`0` / `1`";
    case ConfigVarType::kKey32:
      return "32-byte key (hex / base64)";
    case ConfigVarType::kUrl:
      return "URL";
  }
  return "string";
}

absl::optional<std::string> Lookup(const Env& env, absl::string_view name) {
  auto it = env.find(std::string(name));
  if (it == env.end()) return absl::nullopt;
  return it->second;
}

// Decodes a KEK given as 64 hex digits or base64 (standard or web-safe).
absl::StatusOr<std::shared_ptr<const shim::SecureBytes>> DecodeKek(
    absl::string_view text) {
  std::string bytes;
  absl::string_view trimmed = absl::StripAsciiWhitespace(text);
  bool hex = trimmed.size() == 64;
  for (char c : trimmed) hex = hex && absl::ascii_isxdigit(c);
  if (hex) {
    bytes = absl::HexStringToBytes(trimmed);
  } else if (!absl::Base64Unescape(trimmed, &bytes) &&
             !absl::WebSafeBase64Unescape(trimmed, &bytes)) {
    bytes.clear();
  }
  if (bytes.size() != 32) {
    size_t got = bytes.size();
    shim::WipeString(bytes);
    return absl::InvalidArgumentError(
        absl::StrCat(kKekVar,
                     " must be a 32-byte key written as 64 hex digits or base64 "
                     "(the value given is ",
                     trimmed.size(), " characters long and decodes to ", got,
                     " bytes); the value itself is not shown"));
  }
  return std::make_shared<const shim::SecureBytes>(std::move(bytes));
}

}  // namespace

absl::Span<const ConfigVarSpec> ConfigVarTable() { return kTable; }

std::string ConfigVarsMarkdown() {
  std::string out =
      "| Variable | Type | Default | Description |\n"
      "|---|---|---|---|\n";
  for (const ConfigVarSpec& v : kTable) {
    std::string def = v.default_value.empty() ? std::string("(unset)")
                                              : absl::StrCat("`", v.default_value, "`");
    absl::StrAppend(&out, "| `", v.name, "` | ", TypeName(v.type), " | ", def, " | ",
                    absl::StrReplaceAll(v.description, {{"|", "\\|"}}), " |\n");
  }
  return out;
}

bool IsValidEnvName(absl::string_view name) {
  if (name.empty() || absl::ascii_isdigit(name[0])) return false;
  for (char c : name) {
    if (!absl::ascii_isalnum(c) && c != '_') return false;
  }
  return true;
}

Env ProcessEnvironment(absl::string_view verify_env_name) {
  Env env;
  auto read = [&env](absl::string_view name) {
    std::string key(name);
    // The project's only getenv: every variable is declared in kTable.
    if (const char* value = std::getenv(key.c_str()); value != nullptr) {
      env[key] = value;
    }
  };
  for (const ConfigVarSpec& v : kTable) read(v.name);
  if (IsValidEnvName(verify_env_name)) read(verify_env_name);
  return env;
}

absl::StatusOr<ConfigVars> ConfigVars::FromEnvironment(
    const Env& env, absl::string_view verify_env_name) {
  if (!IsValidEnvName(verify_env_name)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "verify_env_name \"", absl::CEscape(verify_env_name),
        "\" is not a valid environment variable name ([A-Za-z_][A-Za-z0-9_]*)"));
  }
  ConfigVars vars;
  vars.verify_env_name_ = std::string(verify_env_name);
  vars.https_verify_ = Lookup(env, verify_env_name);
  vars.ssl_cert_file_ = Lookup(env, kSslCertFileVar);
  if (vars.ssl_cert_file_.has_value() && vars.ssl_cert_file_->empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(kSslCertFileVar,
                     " is set but empty: give the path of a PEM CA bundle "
                     "or unset it"));
  }
  if (absl::optional<std::string> kek = Lookup(env, kKekVar)) {
    absl::StatusOr<std::shared_ptr<const shim::SecureBytes>> decoded = DecodeKek(*kek);
    shim::WipeString(*kek);
    if (!decoded.ok()) return decoded.status();
    vars.kek_ = *std::move(decoded);
  }
  vars.store_url_ = Lookup(env, kStoreVar).value_or(std::string(kDefaultStoreUrl));
  if (vars.store_url_.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(kStoreVar, " is set but empty: give a store URL such as ",
                     kDefaultStoreUrl, " or unset it"));
  }
  return vars;
}

}  // namespace sslshim::runtime
