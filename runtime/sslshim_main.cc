// sslshim: the command-line entry point. Each subcommand parses its own
// flags (`sslshim <command> --help` lists them):
//   sslshim demo            the whole story end to end (README's main command)
//   sslshim serve           TLS server on 127.0.0.1 (--http or --echo)
//   sslshim connect         raw TLS client, one JSON object
//   sslshim fetch URL       HTTPS client, curl-like, one JSON object
//   sslshim verify          verify a chain against a CA bundle
//   sslshim peercert FILE   getpeercert() of a certificate
//   sslshim match-hostname  ssl.match_hostname on a certificate
//   sslshim store ...       certificate store records (certstore's CLI)
// Exit codes: 0 success; 1 a verdict against; 2 usage error or unreadable
// input; 3 invalid value (`store` keeps certstore's codes).

#include <csignal>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "runtime/cli/cert_commands.h"
#include "runtime/cli/cli_common.h"
#include "runtime/cli/connect_command.h"
#include "runtime/cli/fetch_command.h"
#include "runtime/cli/serve_command.h"
#include "runtime/cli/store_adapter.h"
#include "runtime/demo.h"

namespace {

constexpr char kUsage[] =
    "usage: sslshim <command> [flags]   (sslshim <command> --help for its flags)\n"
    "\n"
    "commands:\n"
    "  demo            the whole story on a temporary LMDB store: CA, server and\n"
    "                  client certificates stored with sealed keys, a sandboxed app\n"
    "                  serving mutual and one-way TLS from the store, match_hostname,\n"
    "                  rotation without restart, refusals\n"
    "  serve           TLS server on 127.0.0.1: --http (HTTPS, echoes the request\n"
    "                  as JSON) or --echo (raw TLS echo); one JSON line per connection\n"
    "  connect         raw TLS client; prints one JSON object\n"
    "  fetch URL       HTTPS client (curl-like); prints one JSON object\n"
    "  verify          verify a certificate chain against a CA bundle\n"
    "  peercert FILE   getpeercert() of a certificate, as JSON or Python repr\n"
    "  match-hostname  ssl.match_hostname on a certificate\n"
    "  store           certificate store: import, get, list, rotate, delete, reseal\n"
    "\n";

int RunDemoCommand(const std::vector<std::string>& args) {
  if (!args.empty() && (args[0] == "--help" || args[0] == "-h")) {
    std::cout << "usage: sslshim demo\n\nRuns every step and prints a "
                 "summary; exits 0 only when every step did what it should.\n";
    return 0;
  }
  if (!args.empty()) {
    std::cerr << "sslshim demo: unexpected argument '" << args[0] << "'\n";
    return sslshim::runtime::cli::kExitUsage;
  }
  return sslshim::runtime::RunDemo(std::cout) == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  namespace cli = sslshim::runtime::cli;
  // Facade sockets never raise SIGPIPE (they send with MSG_NOSIGNAL), but
  // libraries below (hiredis writes with write(2)) may: a peer or a store
  // that goes away must cost an error, never the process.
  std::signal(SIGPIPE, SIG_IGN);
  if (argc < 2 || std::strcmp(argv[1], "--help") == 0 ||
      std::strcmp(argv[1], "-h") == 0 || std::strcmp(argv[1], "help") == 0) {
    (argc < 2 ? std::cerr : std::cout) << kUsage << cli::kExitCodesHelp;
    return argc < 2 ? cli::kExitUsage : cli::kExitOk;
  }
  const std::string command = argv[1];
  const std::vector<std::string> args(argv + 2, argv + argc);
  if (command == "demo") return RunDemoCommand(args);
  if (command == "serve") return cli::RunServe(args);
  if (command == "connect") return cli::RunConnect(args);
  if (command == "fetch") return cli::RunFetch(args);
  if (command == "verify") return cli::RunVerify(args);
  if (command == "peercert") return cli::RunPeercert(args);
  if (command == "match-hostname") return cli::RunMatchHostname(args);
  if (command == "store") return cli::RunStore(args);
  std::cerr << "sslshim: unknown command '" << command << "'\n\n" << kUsage;
  return cli::kExitUsage;
}
