// sslshim: the command-line entry point. Subcommands:
//   sslshim demo     the whole story end to end (README's main command)
// Exit codes: 0 success; 1 a step or operation failed; 2 usage error.

#include <cstring>
#include <iostream>
#include <string>

#include "runtime/demo.h"

namespace {

constexpr char kUsage[] =
    "usage: sslshim <command> [flags]\n"
    "\n"
    "commands:\n"
    "  demo    run the facade end to end over 127.0.0.1: CA, server and client\n"
    "          certificates minted in memory, mutual and one-way TLS from\n"
    "          file-like readers, match_hostname, key rotation, refusals\n"
    "\n"
    "exit codes: 0 success, 1 failure, 2 usage error\n";

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || std::strcmp(argv[1], "--help") == 0 ||
      std::strcmp(argv[1], "-h") == 0 || std::strcmp(argv[1], "help") == 0) {
    std::cout << kUsage;
    return argc < 2 ? 2 : 0;
  }
  const std::string command = argv[1];
  if (command == "demo") {
    if (argc > 2 && std::strcmp(argv[2], "--help") == 0) {
      std::cout << "usage: sslshim demo\n\nRuns every step and prints a "
                   "summary; exits 0 only when every step did what it should.\n";
      return 0;
    }
    return sslshim::runtime::RunDemo(std::cout) == 0 ? 0 : 1;
  }
  std::cerr << "sslshim: unknown command '" << command << "'\n\n" << kUsage;
  return 2;
}
