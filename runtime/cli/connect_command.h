// connect_command.h
// -----------------------------------------------------------------------------
// `sslshim connect`: a raw TLS client over the facade. Prints ONE JSON object:
//
//   sslshim connect --port 8443 --cafile ca.pem --server-hostname localhost
//       --send 'ping'
//   {"ok":true,"handshake":"ok","version":"TLSv1.3","cipher":"...",
//    "peercert":{...},"peercert_sha256":"AB:...","received":"ping"}
//   {"ok":false,"error_kind":"SSLCertVerificationError","verify_code":20,...}
//
// Without --cafile/--cert-none the runtime's defaults apply: the
// PYTHONHTTPSVERIFY toggle and the default CA bundle (SSL_CERT_FILE), as
// create_default_context() does. Explicit flags win.

#ifndef SSLSHIM_RUNTIME_CLI_CONNECT_COMMAND_H_
#define SSLSHIM_RUNTIME_CLI_CONNECT_COMMAND_H_

#include <string>
#include <vector>

namespace sslshim::runtime::cli {

// RunConnect runs `sslshim connect` with `args` (the words after "connect")
// and returns the exit code: 0 handshake (and exchange) ok, 1 refused or
// failed, 2 usage or unreadable input, 3 invalid value.
int RunConnect(const std::vector<std::string>& args);

}  // namespace sslshim::runtime::cli

#endif  // SSLSHIM_RUNTIME_CLI_CONNECT_COMMAND_H_
