#include "runtime/defaults.h"

#include <unistd.h>

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "shim/errors.h"

namespace sslshim::runtime {
namespace {

absl::string_view VersionName(shim::TLSVersion v) {
  switch (v) {
    case shim::TLSVersion::TLSv1:
      return "TLS 1.0";
    case shim::TLSVersion::TLSv1_1:
      return "TLS 1.1";
    case shim::TLSVersion::TLSv1_2:
      return "TLS 1.2";
    case shim::TLSVersion::TLSv1_3:
      return "TLS 1.3";
    default:
      return "?";
  }
}

// The version a PROTOCOL_TLSv1* constant pins, or nullopt for the
// negotiating protocols.
absl::optional<shim::TLSVersion> PinnedVersion(shim::Protocol p) {
  switch (p) {
    case shim::PROTOCOL_TLSv1:
      return shim::TLSVersion::TLSv1;
    case shim::PROTOCOL_TLSv1_1:
      return shim::TLSVersion::TLSv1_1;
    case shim::PROTOCOL_TLSv1_2:
      return shim::TLSVersion::TLSv1_2;
    default:
      return absl::nullopt;
  }
}

}  // namespace

absl::StatusOr<std::shared_ptr<AppRuntime>> AppRuntime::Create(
    const shim::Source& app_yaml, Options options) {
  AppConfig config;
  if (!app_yaml.empty()) {
    absl::StatusOr<AppConfig> loaded = LoadAppConfig(app_yaml);
    if (!loaded.ok()) return loaded.status();
    config = *std::move(loaded);
  }
  Env env = options.host_env.has_value() ? *std::move(options.host_env)
                                         : ProcessEnvironment(config.verify_env_name);
  for (const auto& [name, value] : config.env_variables) env[name] = value;

  absl::StatusOr<ConfigVars> vars =
      ConfigVars::FromEnvironment(env, config.verify_env_name);
  if (!vars.ok()) return vars.status();
  absl::StatusOr<std::shared_ptr<VerifyPolicy>> policy =
      VerifyPolicy::Create(*vars, std::move(options.log_sink));
  if (!policy.ok()) return policy.status();

  std::string path = vars->ssl_cert_file().value_or(
      config.ca_bundle.value_or(std::string(kDefaultCaBundle)));
  absl::StatusOr<std::shared_ptr<CaBundle>> bundle =
      CaBundle::Create({.path = path, .recheck_interval = options.ca_recheck_interval});
  if (!bundle.ok()) return bundle.status();

  return std::shared_ptr<AppRuntime>(new AppRuntime(std::move(env), *std::move(vars),
                                                    std::move(config), *std::move(policy),
                                                    *std::move(bundle)));
}

absl::Status AppRuntime::ApplyTlsRange(shim::SSLContext& ctx) const {
  const TlsRange& range = config_.tls;
  if (absl::optional<shim::TLSVersion> pin = PinnedVersion(ctx.protocol())) {
    if (static_cast<int>(*pin) < static_cast<int>(range.minimum) ||
        static_cast<int>(*pin) > static_cast<int>(range.maximum)) {
      return shim::MakeError(
          shim::ErrorKind::kSSLError, absl::StatusCode::kInvalidArgument,
          absl::StrCat("ssl_version pins ", VersionName(*pin),
                       ", which ssl library version ", config_.ssl_version,
                       " does not offer (", VersionName(range.minimum), " to ",
                       VersionName(range.maximum), ")"));
    }
    return absl::OkStatus();
  }
  absl::Status s = ctx.set_minimum_version(range.minimum);
  if (s.ok()) s = ctx.set_maximum_version(range.maximum);
  return s;
}

absl::StatusOr<std::shared_ptr<shim::SSLContext>> AppRuntime::create_default_context(
    Purpose purpose, const DefaultContextOptions& options) const {
  absl::Status s = config_.RequireSsl();
  if (!s.ok()) return s;
  const bool server = purpose == Purpose::CLIENT_AUTH;
  if (server && options.verify.has_value()) {
    return absl::InvalidArgumentError(
        "create_default_context: verify= applies to Purpose.SERVER_AUTH "
        "(client) contexts only; set verify_mode on a server context");
  }
  absl::StatusOr<std::shared_ptr<shim::SSLContext>> ctx = shim::SSLContext::Create(
      server ? shim::PROTOCOL_TLS_SERVER : shim::PROTOCOL_TLS_CLIENT);
  if (!ctx.ok()) return ctx.status();
  shim::SSLContext& c = **ctx;
  s = ApplyTlsRange(c);
  const bool own_cas = !options.cafile.empty() || !options.cadata.empty();
  if (s.ok() && own_cas) {
    s = c.load_verify_locations({.cafile = options.cafile, .cadata = options.cadata});
  }
  if (s.ok() && !server) {
    if (policy_->ClientVerify(options.verify)) {
      if (!own_cas) s = bundle_->InstallShared(c);
    } else {
      c.set_check_hostname(false);
      s = c.set_verify_mode(shim::CERT_NONE);
    }
  }
  if (!s.ok()) return s;
  return ctx;
}

absl::StatusOr<std::unique_ptr<shim::SSLSocket>> AppRuntime::wrap_socket(
    int fd, const shim::WrapSocketArgs& args) const {
  auto fail = [fd](absl::Status s) {
    if (fd >= 0) ::close(fd);
    return s;
  };
  absl::Status s = config_.RequireSsl();
  if (!s.ok()) return fail(s);

  shim::WrapSocketArgs a = args;
  bool verify_by_toggle = false;
  if (!a.server_side && !a.cert_reqs.has_value()) {
    verify_by_toggle = policy_->ClientVerify(absl::nullopt);
    if (verify_by_toggle && a.server_hostname.empty()) {
      return fail(shim::MakeError(
          shim::ErrorKind::kSSLError, absl::StatusCode::kInvalidArgument,
          absl::StrCat("wrap_socket: ", policy_->variable(),
                       " verification (on unless it is 0) checks the server's "
                       "hostname, so server_hostname= is required; pass it, or pass "
                       "cert_reqs= explicitly")));
    }
    // Built unverified, then switched on below (MakeWrapContext insists on
    // ca_certs for CERT_REQUIRED, and the default bundle is not a Source).
    a.cert_reqs = shim::CERT_NONE;
  }
  absl::StatusOr<std::shared_ptr<shim::SSLContext>> ctx = shim::MakeWrapContext(a);
  if (!ctx.ok()) return fail(ctx.status());
  shim::SSLContext& c = **ctx;
  s = ApplyTlsRange(c);
  if (s.ok() && verify_by_toggle) {
    if (a.ca_certs.empty()) s = bundle_->InstallShared(c);
    if (s.ok()) s = c.set_verify_mode(shim::CERT_REQUIRED);
    if (s.ok()) c.set_check_hostname(true);
  }
  if (!s.ok()) return fail(s);
  return c.wrap_socket(fd, {.server_side = a.server_side,
                            .do_handshake_on_connect = a.do_handshake_on_connect,
                            .suppress_ragged_eofs = a.suppress_ragged_eofs,
                            .server_hostname = a.server_hostname});
}

}  // namespace sslshim::runtime
