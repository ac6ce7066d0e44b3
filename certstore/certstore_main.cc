// certstore: manage certificate records in a certstore (see
// certstore/cli/store_command.h for commands, environment and exit codes).

#include "certstore/cli/store_command.h"

int main(int argc, char** argv) {
  return sslshim::certstore::cli::RunStoreCommand(argc, argv);
}
