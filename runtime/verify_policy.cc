#include "runtime/verify_policy.h"

#include <unistd.h>

#include <string>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace sslshim::runtime {

LogSink StderrLogSink() {
  return [](absl::string_view line) {
    std::string out = absl::StrCat("sslshim: ", line, "\n");
    // One write so concurrent lines do not interleave; a failed write to
    // stderr has nowhere else to be reported.
    ssize_t ignored = ::write(STDERR_FILENO, out.data(), out.size());
    (void)ignored;
  };
}

absl::StatusOr<std::shared_ptr<VerifyPolicy>> VerifyPolicy::Create(const ConfigVars& vars,
                                                                   LogSink sink) {
  bool verify = true;
  if (const absl::optional<std::string>& raw = vars.https_verify()) {
    absl::string_view v = absl::StripAsciiWhitespace(*raw);
    if (v == "0") {
      verify = false;
    } else if (v != "1") {
      return absl::InvalidArgumentError(
          absl::StrCat(vars.verify_env_name(), "=\"", absl::CEscape(*raw),
                       "\" is not accepted: use 1 (verify server certificates, the "
                       "default when unset) or 0 (do not verify)"));
    }
  }
  if (sink == nullptr) sink = StderrLogSink();
  return std::shared_ptr<VerifyPolicy>(
      new VerifyPolicy(vars.verify_env_name(), verify, std::move(sink)));
}

void VerifyPolicy::WarnOnce() const {
  if (warned_.exchange(true)) return;
  sink_(
      absl::StrCat("WARNING: ", variable_,
                   "=0: TLS certificate verification is OFF for client connections that "
                   "do not ask for it explicitly (wrap_socket without cert_reqs, default "
                   "contexts, HTTPS requests without verify=). Connections can be "
                   "intercepted. Unset ",
                   variable_, " or set it to 1 to verify."));
}

bool VerifyPolicy::ClientVerify(absl::optional<bool> explicit_verify) const {
  if (explicit_verify.has_value()) return *explicit_verify;
  if (!verify_) WarnOnce();
  return verify_;
}

shim::VerifyMode VerifyPolicy::ClientCertReqs(
    absl::optional<shim::VerifyMode> explicit_reqs) const {
  if (explicit_reqs.has_value()) return *explicit_reqs;
  return ClientVerify(absl::nullopt) ? shim::CERT_REQUIRED : shim::CERT_NONE;
}

}  // namespace sslshim::runtime
