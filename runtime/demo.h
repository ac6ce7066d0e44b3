// demo.h: `sslshim demo`, the README's main command. Runs the whole story of
// the facade end to end over real loopback TCP, with nothing but what it
// creates in memory, and says what each step showed:
//
//   int failures = sslshim::runtime::RunDemo(std::cout);
//
// Steps: mint a CA, a server and a client certificate; start a mutual-TLS
// server whose credentials come from file-like readers; connect with the
// App-Engine-style wrap_socket; show both verified peer certificates;
// match_hostname passing and failing; rotate the server key behind the
// reader and show the next connection using it; the one-way case; a client
// without a certificate refused; a client that does not trust the server
// refused. (Once the runtime's store bridge lands, the readers read records
// of the embedded LMDB store.)

#ifndef SSLSHIM_RUNTIME_DEMO_H_
#define SSLSHIM_RUNTIME_DEMO_H_

#include <ostream>

namespace sslshim::runtime {

// RunDemo runs every step, printing human-readable progress and a summary to
// `out`. Returns the number of steps that did not do what they should (0 on
// full success).
int RunDemo(std::ostream& out);

}  // namespace sslshim::runtime

#endif  // SSLSHIM_RUNTIME_DEMO_H_
