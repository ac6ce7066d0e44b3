// verify_policy.h
// -----------------------------------------------------------------------------
// The verify toggle: PYTHONHTTPSVERIFY (its name configurable with
// `verify_env_name` in app.yaml) decides whether client-side *default*
// contexts verify the server: wrap_socket without cert_reqs,
// create_default_context, and the HTTPS client's default `verify`.
//
//   unset or "1"  verify the peer against the default CA bundle and check the
//                 hostname
//   "0"           do not verify; the first time this takes effect the policy
//                 logs ONE warning naming the variable
//   anything else InvalidArgument naming the variable and the accepted values
//
// An explicit cert_reqs= / verify= always wins over the toggle.
//
//   absl::StatusOr<std::shared_ptr<VerifyPolicy>> policy =
//       VerifyPolicy::Create(vars);
//   shim::VerifyMode mode = (*policy)->ClientCertReqs(args.cert_reqs);
//
// Where this differs from App Engine: App Engine's Python 2.7 runtime did NOT
// verify by default. Its "Using Python SSL" page (cloud.google.com/appengine/
// docs/legacy/standard/python/sockets/ssl_support, "Verifying certificates")
// told apps to opt in by adding `env_variables: PYTHONHTTPSVERIFY: 1` to
// app.yaml and redeploying, and otherwise to call match_hostname themselves;
// its wrap_socket also required ca_certs. PEP 493, where the variable comes
// from, likewise only lets "0" turn verification off in a Python that
// verifies. Here verification is ON when the variable is unset: an app that
// relied on App Engine's unverified default must set PYTHONHTTPSVERIFY: 0
// (and gets the warning), and an unrecognised value is an error rather than
// being ignored.
//
// Thread-safety: a VerifyPolicy is immutable except for its warned-once flag,
// which is atomic; share it freely.

#ifndef SSLSHIM_RUNTIME_VERIFY_POLICY_H_
#define SSLSHIM_RUNTIME_VERIFY_POLICY_H_

#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/optional.h"
#include "runtime/config_vars.h"
#include "shim/constants.h"

namespace sslshim::runtime {

// LogSink receives one log line (no trailing newline). Called from whichever
// thread logs; must be thread-safe.
using LogSink = std::function<void(absl::string_view line)>;

// StderrLogSink writes "sslshim: <line>\n" to stderr with one write(2).
LogSink StderrLogSink();

class VerifyPolicy {
 public:
  // Create reads the toggle from `vars` (under vars.verify_env_name()).
  // `sink` receives the warning (nullptr: StderrLogSink()). Errors:
  // InvalidArgument for a value other than unset, "0" or "1" (surrounding
  // whitespace ignored), naming the variable and the accepted values.
  static absl::StatusOr<std::shared_ptr<VerifyPolicy>> Create(const ConfigVars& vars,
                                                              LogSink sink = nullptr);

  // verify_by_default is true unless the toggle is "0".
  bool verify_by_default() const { return verify_; }

  // variable is the toggle's name, e.g. "PYTHONHTTPSVERIFY".
  const std::string& variable() const { return variable_; }

  // ClientVerify decides `verify` for a client-side connection:
  // `explicit_verify` when given, else the toggle. Logs the warning (once per
  // policy) when the toggle turns verification off.
  bool ClientVerify(absl::optional<bool> explicit_verify) const;

  // ClientCertReqs is ClientVerify for ssl's cert_reqs: an explicit value is
  // returned as is; unset gives CERT_REQUIRED (verify) or CERT_NONE (toggle
  // "0", warning logged once).
  shim::VerifyMode ClientCertReqs(absl::optional<shim::VerifyMode> explicit_reqs) const;

  // warned reports whether the warning has been logged.
  bool warned() const { return warned_.load(); }

 private:
  VerifyPolicy(std::string variable, bool verify, LogSink sink)
      : variable_(std::move(variable)), verify_(verify), sink_(std::move(sink)) {}
  void WarnOnce() const;

  const std::string variable_;
  const bool verify_;
  const LogSink sink_;
  mutable std::atomic<bool> warned_{false};
};

}  // namespace sslshim::runtime

#endif  // SSLSHIM_RUNTIME_VERIFY_POLICY_H_
