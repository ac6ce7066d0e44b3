// serve_command.h
// -----------------------------------------------------------------------------
// `sslshim serve`: a TLS server on 127.0.0.1 for trying clients against.
//
//   sslshim serve --http --port 0 --certfile store:Web/api#cert
//       --cafile ca.pem --verify required
//   PORT 41234
//   {"id":1,"peer":"127.0.0.1:50122","handshake":"ok","version":"TLSv1.3",...}
//
// --http runs the HttpsServer with a handler that echoes the request and the
// client identity as JSON (GET /_status returns the server's counters and the
// credential slots' status); --echo runs a raw TLS echo server over the
// facade. One JSON line per connection (ConnectionEvent). Certificates from a
// store record are served from a CredentialSlot (SlotContextProvider), so a
// rotated record reaches the next connection. SIGTERM/SIGINT shut down
// gracefully (exit 0).

#ifndef SSLSHIM_RUNTIME_CLI_SERVE_COMMAND_H_
#define SSLSHIM_RUNTIME_CLI_SERVE_COMMAND_H_

#include <string>
#include <vector>

namespace sslshim::runtime::cli {

// RunServe runs `sslshim serve` with `args` (the words after "serve") and
// returns the process exit code (see cli_common.h).
int RunServe(const std::vector<std::string>& args);

}  // namespace sslshim::runtime::cli

#endif  // SSLSHIM_RUNTIME_CLI_SERVE_COMMAND_H_
