// cli_common.h
// -----------------------------------------------------------------------------
// What every `sslshim` subcommand shares: per-subcommand flag parsing over
// Abseil flags (each subcommand accepts only its own flags and prints only
// them for --help), the exit codes, the runtime a command takes its defaults
// from (app.yaml, environment, verify toggle, default CA bundle, store), the
// `store:<key path>[#field]` syntax for every FILE argument, and JSON output.
//
//   const CommandSpec kSpec = {
//       .name = "connect", .synopsis = "[flags]", .summary = "...",
//       .flags = {{"port", "server port"}, {"store", ""}}};
//   int RunConnect(const std::vector<std::string>& args) {
//     absl::StatusOr<ParsedArgs> parsed = ParseArgs(kSpec, args, std::cout, std::cerr);
//     if (!parsed.ok()) return ExitForParse(parsed.status());   // 0 for --help, 2
//     absl::StatusOr<std::unique_ptr<CliRuntime>> rt = CliRuntime::FromFlags();
//     absl::StatusOr<shim::Source> ca = (*rt)->SourceFor(absl::GetFlag(FLAGS_cafile),
//     "cert");
//     ...
//   }
//
// Flags are Abseil flags (the values live in FLAGS_<name>); a flag whose name
// has '_' is spelled with '-' on the command line (FLAGS_server_hostname is
// --server-hostname). Single-dash spellings (-k, -H) work too.

#ifndef SSLSHIM_RUNTIME_CLI_CLI_COMMON_H_
#define SSLSHIM_RUNTIME_CLI_CLI_COMMON_H_

#include <map>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "absl/flags/declare.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "certstore/cert_store.h"
#include "nlohmann/json.hpp"
#include "openssl/x509.h"
#include "runtime/defaults.h"
#include "shim/reader.h"

// Flags shared by several subcommands (defined in cli_common.cc).
ABSL_DECLARE_FLAG(std::string, app);
ABSL_DECLARE_FLAG(std::string, store);
ABSL_DECLARE_FLAG(std::string, host);
ABSL_DECLARE_FLAG(int, port);
ABSL_DECLARE_FLAG(std::string, certfile);
ABSL_DECLARE_FLAG(std::string, keyfile);
ABSL_DECLARE_FLAG(std::string, cafile);
ABSL_DECLARE_FLAG(double, timeout);

namespace sslshim::runtime::cli {

// Exit codes, the same for every subcommand except `store` (which keeps
// certstore's own codes, see certstore/cli/store_command.h).
enum ExitCode : int {
  kExitOk = 0,        // Success.
  kExitFailed = 1,    // A verdict against: verification failed, hostname
                      // mismatch, handshake refused, connection failed.
  kExitUsage = 2,     // Usage error or unreadable input.
  kExitBadValue = 3,  // Invalid value (Python's ValueError), e.g. an
                      // empty or malformed certificate.
};

// kExitCodesHelp documents the exit codes (printed by every --help).
extern const char kExitCodesHelp[];

// FlagDoc documents one flag a subcommand accepts. `name` is the Abseil
// flag's name (with '_'); `help` is what --help prints for this subcommand.
// A `repeatable` flag collects every occurrence (ParsedArgs::repeated).
struct FlagDoc {
  absl::string_view name;
  absl::string_view help;
  bool repeatable = false;
};

// CommandSpec describes a subcommand for parsing and --help.
struct CommandSpec {
  absl::string_view name;      // "connect"
  absl::string_view synopsis;  // "[flags] URL"
  absl::string_view summary;   // One paragraph for --help.
  std::vector<FlagDoc> flags;
  int min_positional = 0;
  int max_positional = 0;
};

// ParsedArgs is what ParseArgs leaves besides the flag values.
struct ParsedArgs {
  std::vector<std::string> positional;
  std::map<std::string, std::vector<std::string>> repeated;
};

// ParseArgs parses `args` (the words after the subcommand) against `spec`,
// setting the Abseil flags it names. `--help`/`-h` print HelpText(spec) to
// `out` and return Cancelled; any error (a flag of another subcommand, a
// missing or bad value, too many or too few positional arguments) is printed
// as one line plus a hint to `err` and returned as InvalidArgument. "--"
// ends the flags.
absl::StatusOr<ParsedArgs> ParseArgs(const CommandSpec& spec,
                                     const std::vector<std::string>& args,
                                     std::ostream& out, std::ostream& err);

// ExitForParse maps ParseArgs' error to the exit code: 0 for --help, 2
// otherwise.
int ExitForParse(const absl::Status& status);

// HelpText renders `spec`'s usage, its flags with defaults, and the exit
// codes.
std::string HelpText(const CommandSpec& spec);

// ExitCodeFor maps a failed operation's status to an exit code: 2 for input
// that could not be read (kind OSError, or NotFound, PermissionDenied,
// FailedPrecondition), 3 for InvalidArgument (Python's ValueError
// territory), 1 otherwise.
int ExitCodeFor(const absl::Status& status);

// ErrorJson describes a failure: {"ok": false, "error_kind": "...",
// "verify_code": N, "verify_message": "...", "message": "..."} (verify
// fields only when the status carries them).
nlohmann::json ErrorJson(const absl::Status& status);

// ErrorLine renders the one stderr line for a failure:
// "sslshim <command>: <message> [verify code N: <reason>]".
std::string ErrorLine(absl::string_view command, const absl::Status& status);

// SecondsFlag turns a duration flag's value into a Duration. Errors:
// FailedPrecondition (exit 2), naming `flag` and the range, unless `seconds`
// is a finite number in (0, max_seconds] (0, negative, nan, inf and 1e308
// are refused: they would spin a loop or fail every operation at once).
absl::StatusOr<absl::Duration> SecondsFlag(absl::string_view flag, double seconds,
                                           double max_seconds = 86400);

// PortFlag checks a port flag's value. Errors: FailedPrecondition (exit 2),
// naming `flag`, unless it is 1..65535 (or 0 when `allow_zero`: "any free
// port", for servers).
absl::StatusOr<int> PortFlag(absl::string_view flag, int port, bool allow_zero);

// KeyArgFor returns the key argument to use with `certfile`: `keyfile` when
// given; else, for a store: certificate, the same record (default field
// key_str); else "" (the certificate file holds the key too).
std::string KeyArgFor(absl::string_view certfile, absl::string_view keyfile);

// ReportFailure prints ErrorJson(status) as the command's one JSON object on
// stdout and ErrorLine(command, status) on stderr, and returns
// ExitCodeFor(status).
int ReportFailure(absl::string_view command, const absl::Status& status);

// SubjectRfc2253 returns `cert`'s subject in RFC 2253 form ("CN=a,O=b"), or
// "" when it cannot be printed. `cert` is borrowed.
std::string SubjectRfc2253(X509* cert);

// PyValueJson converts a getpeercert()-shaped value to JSON.
nlohmann::json PyValueJson(const shim::PyValue& value);

// Sha256Fingerprint returns the SHA-256 of `der` as upper-case hex with ':'
// separators (the format of certstore's record metadata).
std::string Sha256Fingerprint(absl::string_view der);

// CliRuntime is what a subcommand takes its defaults from: the AppRuntime
// (app.yaml from --app, else one that enables the `ssl` library, over the
// process environment) and, opened on first use, the certificate store of
// --store (else SSLSHIM_STORE) with the KEK of SSLSHIM_KEK.
class CliRuntime {
 public:
  // FromFlags builds the runtime from --app (a path or a `store:` reference,
  // default field `app`, read from --store or the process environment's
  // store) and --store. Errors: those of AppRuntime::Create (config and
  // environment errors) and, for a store reference, of the store read.
  static absl::StatusOr<std::unique_ptr<CliRuntime>> FromFlags();

  const AppRuntime& app() const { return *app_; }
  const std::shared_ptr<AppRuntime>& shared_app() const { return app_; }

  // store opens the store on first use and returns it (owned by this
  // object). Errors: OpenStore's, a bad KEK.
  absl::StatusOr<certstore::CertStore*> store();

  // SourceFor turns a FILE argument into a Source: "store:<path>[#field]"
  // becomes a reader of that record field (`default_field` when the
  // reference names none), anything else a path; "" gives an empty Source.
  // Errors: those of ParseStoreRef and store().
  absl::StatusOr<shim::Source> SourceFor(absl::string_view arg,
                                         absl::string_view default_field);

  // ReadArg reads a FILE argument completely (see SourceFor). Errors:
  // SourceFor's, the read's (NotFound for a missing file or field).
  absl::StatusOr<std::string> ReadArg(absl::string_view arg,
                                      absl::string_view default_field,
                                      absl::string_view what);

 private:
  CliRuntime(std::shared_ptr<AppRuntime> app, std::string store_url)
      : app_(std::move(app)), store_url_(std::move(store_url)) {}

  std::shared_ptr<AppRuntime> app_;
  std::string store_url_;
  std::unique_ptr<certstore::CertStore> store_;
};

// PrintJson writes `value` as one line to `out` and flushes.
void PrintJson(std::ostream& out, const nlohmann::json& value);

}  // namespace sslshim::runtime::cli

#endif  // SSLSHIM_RUNTIME_CLI_CLI_COMMON_H_
