#include "runtime/cli/store_adapter.h"

#include <iostream>

#include "absl/strings/escaping.h"
#include "certstore/cli/store_command.h"
#include "runtime/config_vars.h"

namespace sslshim::runtime::cli {

int RunStore(const std::vector<std::string>& args) {
  absl::StatusOr<ConfigVars> vars = ConfigVars::FromEnvironment(ProcessEnvironment());
  if (!vars.ok()) {
    std::cerr << "sslshim store: " << vars.status().message() << "\n";
    return certstore::cli::kExitKeyOrPermission;
  }
  certstore::cli::CliEnvironment env;
  env.store = vars->store_url();
  if (vars->kek() != nullptr) env.kek = absl::BytesToHexString(vars->kek()->view());
  std::vector<std::string> store_args = args;
  if (!store_args.empty() && store_args[0] == "--help") store_args[0] = "help";
  const int code = certstore::cli::RunStoreCommandWithIo(store_args, env, std::cin,
                                                         std::cout, std::cerr);
  // Wipe the hex copy of the KEK.
  std::fill(env.kek.begin(), env.kek.end(), '\0');
  return code;
}

}  // namespace sslshim::runtime::cli
