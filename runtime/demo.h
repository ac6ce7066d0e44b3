// demo.h: `sslshim demo`, the README's main command. Runs the whole story end
// to end over real loopback TCP on the embedded LMDB store, with nothing but
// what it creates in memory and in a temporary directory it removes again,
// and says what each step showed:
//
//   int failures = sslshim::runtime::RunDemo(std::cout);
//   int failures = sslshim::runtime::RunDemo(std::cout, {.temp_root = "/var/tmp"});
//
// The host (this process): creates an LMDB store in a fresh temporary
// directory, generates a random KEK in memory, mints a CA, a server and a
// client certificate and stores them under Employee/asalieri/Address/1
// (server) and .../Address/2 (client) with the CA in a `ca` field, and shows
// that the private keys are sealed at rest.
// The app (a forked child): opens its tenant view Employee/asalieri of the
// store, installs the no-write sandbox, shows that a file write fails with
// EPERM, starts a mutual-TLS HttpsServer whose credentials come from a
// CredentialSlot over the store, makes requests with the HttpsClient whose
// certificate, key and CA come from StoreFieldReaders, shows the verified
// peer certificates on both sides and match_hostname passing and failing.
// The host then rotates the server key in the store; the sandboxed app's
// server picks it up through the store's watch and the next connection uses
// it, with no restart. Finally the one-way case, a client without a
// certificate refused by the mutual-TLS server, and a client that does not
// trust the server's CA. The app reports its steps to the host over a socket
// pair (app_process.h); the host prints them and a summary.

#ifndef SSLSHIM_RUNTIME_DEMO_H_
#define SSLSHIM_RUNTIME_DEMO_H_

#include <ostream>
#include <string>

#include "absl/time/time.h"

namespace sslshim::runtime {

// DemoOptions tunes RunDemo; the defaults suit `sslshim demo`.
struct DemoOptions {
  // The store's temporary directory is made (mkdtemp) under this directory
  // and removed at the end. The CLI passes $TMPDIR when it is set.
  std::string temp_root = "/tmp";
  // Bound on every network operation (connect, handshake, each read and
  // write) and on every wait (the app for the host, the watch for a rotation).
  absl::Duration step_timeout = absl::Seconds(5);
  // The app process is killed (and the demo fails) after this long.
  absl::Duration app_timeout = absl::Seconds(30);
};

// RunDemo runs every step, printing human-readable progress and a summary to
// `out`. Returns the number of steps that did not do what they should (0 on
// full success); a setup failure (no temporary directory, no store) counts
// as a failed step and ends the demo early.
int RunDemo(std::ostream& out, const DemoOptions& options);

// RunDemo with the default options.
int RunDemo(std::ostream& out);

}  // namespace sslshim::runtime

#endif  // SSLSHIM_RUNTIME_DEMO_H_
