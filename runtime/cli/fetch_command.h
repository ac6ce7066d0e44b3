// fetch_command.h
// -----------------------------------------------------------------------------
// `sslshim fetch URL`: the HTTPS client, curl-like. Prints ONE JSON object:
//
//   sslshim fetch --cacert ca.pem --cert store:Employee/asalieri
//       -H 'Accept: application/json' https://localhost:8443/hello
//   {"ok":true,"status":200,"reason":"OK","headers":[["Content-Type",...]],
//    "body_length":42,"tls_version":"TLSv1.3","peercert":{...}}
//
// Without --cacert/-k the runtime's defaults apply (PYTHONHTTPSVERIFY toggle,
// default CA bundle); explicit flags win. Any HTTP status is a success (exit
// 0, as curl without -f); failures print ok=false with error_kind,
// verify_code and message (exit 1).

#ifndef SSLSHIM_RUNTIME_CLI_FETCH_COMMAND_H_
#define SSLSHIM_RUNTIME_CLI_FETCH_COMMAND_H_

#include <string>
#include <vector>

namespace sslshim::runtime::cli {

// RunFetch runs `sslshim fetch` with `args` (the words after "fetch") and
// returns the exit code (see cli_common.h).
int RunFetch(const std::vector<std::string>& args);

}  // namespace sslshim::runtime::cli

#endif  // SSLSHIM_RUNTIME_CLI_FETCH_COMMAND_H_
