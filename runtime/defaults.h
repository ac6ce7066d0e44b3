// defaults.h
// -----------------------------------------------------------------------------
// AppRuntime: what the host gives an app, in one object the CLI, the HTTPS
// server and the HTTPS client take their defaults from: the environment
// variables (ConfigVars), app.yaml (AppConfig), the verify toggle
// (VerifyPolicy) and the default CA bundle (CaBundle). Its two facade entry
// points apply them the way App Engine apps expect:
//
//   absl::StatusOr<std::shared_ptr<AppRuntime>> rt =
//       AppRuntime::Create("/srv/app/app.yaml");     // or StringIO(yaml)
//   // Python: ssl.create_default_context()
//   auto ctx = (*rt)->create_default_context();
//   // Python 2.7 / App Engine: ssl.wrap_socket(sock, server_hostname=...)
//   // without cert_reqs: verified against the default bundle, hostname
//   // checked, unless PYTHONHTTPSVERIFY=0.
//   auto sock = (*rt)->wrap_socket(fd, {.server_hostname = "a.hostname.com"});
//
// The app's environment is the host environment (the process's, or
// Options::host_env in tests) with app.yaml's env_variables on top. The CA
// bundle path is SSL_CERT_FILE, else app.yaml `ca_bundle`, else
// /etc/ca-certificates.crt. Both entry points refuse to work (FailedPrecondition,
// showing the two app.yaml lines to add) unless app.yaml enables the ssl
// library, and apply its version's TLS range (app_config.h).
//
// Thread-safety: an AppRuntime is immutable after Create (its bundle and
// policy are thread-safe); share it with every thread.

#ifndef SSLSHIM_RUNTIME_DEFAULTS_H_
#define SSLSHIM_RUNTIME_DEFAULTS_H_

#include <memory>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"
#include "runtime/app_config.h"
#include "runtime/ca_bundle.h"
#include "runtime/config_vars.h"
#include "runtime/verify_policy.h"
#include "shim/reader.h"
#include "shim/ssl_context.h"
#include "shim/ssl_socket.h"
#include "shim/wrap_socket.h"

namespace sslshim::runtime {

// Purpose: Python's ssl.Purpose. SERVER_AUTH makes a client context (it
// authenticates servers); CLIENT_AUTH makes a server context.
enum class Purpose { SERVER_AUTH, CLIENT_AUTH };

// DefaultContextOptions: create_default_context's cafile/cadata (trust these
// instead of the default bundle) and an explicit verify that beats the
// toggle (SERVER_AUTH only).
struct DefaultContextOptions {
  shim::Source cafile;
  std::string cadata;
  absl::optional<bool> verify;
};

class AppRuntime {
 public:
  // Options for Create.
  struct Options {
    // The host environment; absent: the process environment
    // (ProcessEnvironment). app.yaml's env_variables override it.
    absl::optional<Env> host_env;
    // Receives the toggle's warning (nullptr: stderr).
    LogSink log_sink;
    // How often the CA bundle file is checked for changes.
    absl::Duration ca_recheck_interval = absl::Seconds(1);
  };

  // Create reads `app_yaml` (a path or reader; empty: an empty config, so
  // the facade is refused) and builds the runtime. Errors: those of
  // LoadAppConfig, ConfigVars::FromEnvironment, VerifyPolicy::Create and
  // CaBundle::Create. The CA bundle itself is read on first use.
  static absl::StatusOr<std::shared_ptr<AppRuntime>> Create(const shim::Source& app_yaml,
                                                            Options options);
  static absl::StatusOr<std::shared_ptr<AppRuntime>> Create(
      const shim::Source& app_yaml) {
    return Create(app_yaml, Options());
  }

  const ConfigVars& vars() const { return vars_; }
  const AppConfig& config() const { return config_; }
  const VerifyPolicy& verify_policy() const { return *policy_; }
  CaBundle& ca_bundle() const { return *bundle_; }
  // env is the app's environment (host environment + env_variables).
  const Env& env() const { return env_; }

  // create_default_context is Python's ssl.create_default_context(purpose,
  // cafile=, cadata=). SERVER_AUTH: PROTOCOL_TLS_CLIENT; when verifying (the
  // toggle or options.verify) CERT_REQUIRED + check_hostname against
  // cafile/cadata if given, else the shared default bundle; when not,
  // CERT_NONE without hostname check. CLIENT_AUTH: PROTOCOL_TLS_SERVER,
  // CERT_NONE, with cafile/cadata loaded if given. A context given the
  // shared bundle must not have more CAs loaded into it (see CaBundle).
  // Errors: RequireSsl's; the bundle's (only when it is needed); those of
  // the SSLContext calls.
  absl::StatusOr<std::shared_ptr<shim::SSLContext>> create_default_context(
      Purpose purpose = Purpose::SERVER_AUTH,
      const DefaultContextOptions& options = {}) const;

  // wrap_socket is shim::wrap_socket with the runtime's defaults. For a
  // client socket whose args.cert_reqs is unset the toggle decides: verify
  // means CERT_REQUIRED against args.ca_certs, or the shared default bundle
  // when none is given, with the hostname checked against
  // args.server_hostname (required: InvalidArgument without it); no verify
  // means CERT_NONE. An explicit cert_reqs is used as given (shim rules:
  // CERT_REQUIRED needs ca_certs, no hostname check). Takes ownership of `fd`
  // in every case (closed on error). Errors: RequireSsl's; a pinned
  // ssl_version outside the library version's TLS range; those of
  // shim::MakeWrapContext, the bundle and SSLContext::wrap_socket
  // (SSLCertVerificationError / CertificateError from the handshake).
  absl::StatusOr<std::unique_ptr<shim::SSLSocket>> wrap_socket(
      int fd, const shim::WrapSocketArgs& args = {}) const;

 private:
  AppRuntime(Env env, ConfigVars vars, AppConfig config,
             std::shared_ptr<VerifyPolicy> policy, std::shared_ptr<CaBundle> bundle)
      : env_(std::move(env)),
        vars_(std::move(vars)),
        config_(std::move(config)),
        policy_(std::move(policy)),
        bundle_(std::move(bundle)) {}
  absl::Status ApplyTlsRange(shim::SSLContext& ctx) const;

  const Env env_;
  const ConfigVars vars_;
  const AppConfig config_;
  const std::shared_ptr<VerifyPolicy> policy_;
  const std::shared_ptr<CaBundle> bundle_;
};

}  // namespace sslshim::runtime

#endif  // SSLSHIM_RUNTIME_DEFAULTS_H_
