// store_command.h
// -----------------------------------------------------------------------------
// The `store` command line: import, get, list, rotate, delete and reseal
// certificate records. Used by the `certstore` binary and, later, by
// `sslshim store`.
//
//   int main(int argc, char** argv) {
//     return sslshim::certstore::cli::RunStoreCommand(argc, argv);
//   }
//
// Usage (run with `help` for the full text):
//   certstore [--store URL] [--kek-file FILE] [--json] COMMAND [ARGS]
//     import PATH (--cert F [--key F] [--ca F] | --pem F) [--field NAME=F]...
//                 [--allow-expired] [--replace]        F may be '-' (stdin)
//     get PATH [--show-key] [--field NAME]
//     list [PREFIX[/Kind]] [--expiring-within DAYS] [--limit N]
//     rotate PATH --cert F --key F [--ca F] [--allow-expired]
//     delete PATH [--generation N]
//     reseal [PREFIX] (--new-kek-file F | --new-kek-env VAR)
//
// Environment (the only variables read; see kEnvironment in the .cc):
//   SSLSHIM_KEK             KEK as 64 hex digits or base64 of 32 bytes
//   SSLSHIM_STORE           default store URL (else lmdb:./certstore-data)
//   SSLSHIM_REDIS_PASSWORD  Redis password when the URL has none
//
// Exit codes (ExitCode below): 0 ok, 1 usage, 2 invalid input, 3 not found,
// 4 conflict, 5 KEK or permission problem, 6 store unavailable or timed out,
// 7 corrupt data, 8 other failure (including reseal with failed records).

#ifndef SSLSHIM_CERTSTORE_CLI_STORE_COMMAND_H_
#define SSLSHIM_CERTSTORE_CLI_STORE_COMMAND_H_

#include <iosfwd>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace sslshim::certstore::cli {

// Process exit codes of RunStoreCommand().
enum ExitCode : int {
  kExitOk = 0,
  kExitUsage = 1,
  kExitInvalidInput = 2,
  kExitNotFound = 3,
  kExitConflict = 4,
  kExitKeyOrPermission = 5,
  kExitUnavailable = 6,
  kExitDataLoss = 7,
  kExitOther = 8,
};

// CliEnvironment holds the environment variables the CLI reads.
struct CliEnvironment {
  std::string kek;             // SSLSHIM_KEK
  std::string store;           // SSLSHIM_STORE
  std::string redis_password;  // SSLSHIM_REDIS_PASSWORD

  // FromProcess() reads them from the process environment (the only place
  // certstore calls getenv).
  static CliEnvironment FromProcess();
};

// ExitCodeFor() maps a status to the exit code documented above.
int ExitCodeFor(const absl::Status& status);

// RunStoreCommand() runs one command from argv (argv[0] is the program
// name) with the process environment, stdin, stdout and stderr.
int RunStoreCommand(int argc, char** argv);

// RunStoreCommandWithIo() is RunStoreCommand() with explicit inputs and
// outputs; `args` excludes the program name.
int RunStoreCommandWithIo(const std::vector<std::string>& args, const CliEnvironment& env,
                          std::istream& in, std::ostream& out, std::ostream& err);

}  // namespace sslshim::certstore::cli

#endif  // SSLSHIM_CERTSTORE_CLI_STORE_COMMAND_H_
