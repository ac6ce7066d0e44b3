// termination_signal.h
// -----------------------------------------------------------------------------
// SIGTERM/SIGINT handling for server binaries, with signalfd: no handler runs
// in signal context, the main thread simply waits for the signal and then
// shuts the server down gracefully.
//
//   int main() {
//     // First thing, before any thread exists: every thread inherits the
//     // mask, so the signal stays pending for the signalfd.
//     if (!BlockTerminationSignals().ok()) return 2;
//     auto server = HttpsServer::Start(...);
//     absl::StatusOr<int> sig = WaitForTerminationSignal();
//     (*server)->Shutdown(absl::Seconds(10));
//   }

#ifndef SSLSHIM_RUNTIME_TERMINATION_SIGNAL_H_
#define SSLSHIM_RUNTIME_TERMINATION_SIGNAL_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace sslshim::runtime {

// BlockTerminationSignals blocks SIGTERM and SIGINT in the calling thread
// (and so in threads it starts later). Errors: Internal with errno.
absl::Status BlockTerminationSignals();

// WaitForTerminationSignal waits up to `timeout` for SIGTERM or SIGINT
// (which must be blocked, see above) and returns its number. Errors:
// DeadlineExceeded when none arrived; FailedPrecondition when the signals
// are not blocked in this thread; Internal for signalfd failures.
absl::StatusOr<int> WaitForTerminationSignal(
    absl::Duration timeout = absl::InfiniteDuration());

}  // namespace sslshim::runtime

#endif  // SSLSHIM_RUNTIME_TERMINATION_SIGNAL_H_
