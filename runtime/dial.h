// dial.h
// -----------------------------------------------------------------------------
// Dial: resolve a host name with getaddrinfo and connect a TCP socket to the
// first address that accepts, within a time limit. The HTTPS client's
// counterpart of Python's socket.create_connection((host, port), timeout).
//
//   absl::StatusOr<int> fd = Dial("localhost", 8443, absl::Seconds(5));
//   if (!fd.ok()) return fd.status();   // "cannot resolve ...", refused, ...
//   // *fd is a connected, blocking, CLOEXEC socket owned by the caller.
//
// Thread-safety: Dial may be called from any number of threads.

#ifndef SSLSHIM_RUNTIME_DIAL_H_
#define SSLSHIM_RUNTIME_DIAL_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace sslshim::runtime {

// Dial connects to `host` (DNS name or IP literal, IPv6 without brackets)
// and `port`, trying every address getaddrinfo returns in order, all within
// `timeout` (the DNS lookup itself cannot be interrupted and is not counted).
// Returns a connected blocking fd with TCP_NODELAY, owned by the caller.
// Errors (every message names host:port):
//   NotFound          the name does not exist (EAI_NONAME, EAI_NODATA)
//   Unavailable       other resolver failures (e.g. EAI_AGAIN, no DNS server),
//                     connection refused / unreachable on every address
//   DeadlineExceeded  no address accepted within `timeout`; error kind
//                     TimeoutError (shim/errors.h)
absl::StatusOr<int> Dial(const std::string& host, int port, absl::Duration timeout);

}  // namespace sslshim::runtime

#endif  // SSLSHIM_RUNTIME_DIAL_H_
