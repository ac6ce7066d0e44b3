// certstore: manage certificate records in a certstore (see
// certstore/cli/store_command.h for commands, environment and exit codes).

#include <csignal>

#include "certstore/cli/store_command.h"

int main(int argc, char** argv) {
  // A Redis server that goes away mid-write (hiredis uses write(2)) must be
  // an "unavailable" error, not a SIGPIPE death.
  std::signal(SIGPIPE, SIG_IGN);
  return sslshim::certstore::cli::RunStoreCommand(argc, argv);
}
