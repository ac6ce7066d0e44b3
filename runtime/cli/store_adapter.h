// store_adapter.h
// -----------------------------------------------------------------------------
// `sslshim store ...`: certstore's store command line (import, get, list,
// rotate, delete, reseal), with the store URL and KEK taken from the
// runtime's configuration (ConfigVars: SSLSHIM_STORE, SSLSHIM_KEK) instead of
// certstore reading the environment itself.
//
//   sslshim store --store lmdb:/tmp/certs import Web/api --cert c.pem --key k.pem
//
// Exit codes are certstore's (certstore/cli/store_command.h): 0 ok, 1 usage,
// 2 invalid input, 3 not found, 4 conflict, 5 KEK/permission, 6 store
// unavailable, 7 corrupt data, 8 other.

#ifndef SSLSHIM_RUNTIME_CLI_STORE_ADAPTER_H_
#define SSLSHIM_RUNTIME_CLI_STORE_ADAPTER_H_

#include <string>
#include <vector>

namespace sslshim::runtime::cli {

// RunStore runs certstore's command line with `args` (the words after
// "store") and returns its exit code. A configuration error in the
// environment (e.g. a malformed SSLSHIM_KEK) exits with certstore's code 5.
int RunStore(const std::vector<std::string>& args);

}  // namespace sslshim::runtime::cli

#endif  // SSLSHIM_RUNTIME_CLI_STORE_ADAPTER_H_
