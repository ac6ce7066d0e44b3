// app_process.h
// -----------------------------------------------------------------------------
// Runs an "app" in a forked child process that talks to its host (the parent)
// over a two-way line channel, so the host can put the app under the
// irreversible no-write sandbox (sandbox.h) and still keep writing itself,
// e.g. rotating a certificate in the store while the app serves.
//
//   absl::Status s = RunAppProcess(
//       [&](AppChannel& host) {               // in the child
//         if (!InstallNoWriteSandbox().ok()) return;
//         host.Send("ready");
//         absl::StatusOr<std::string> reply = host.Receive(absl::Seconds(5));
//       },
//       [&](absl::string_view line, AppChannel& app) {  // in the parent
//         if (line == "ready") app.Send("go");
//       },
//       absl::Seconds(20));
//
// The channel is a Unix stream socket pair, so a write to a side that is
// gone fails instead of raising SIGPIPE. Fork before starting threads: the child has only
// the forking thread. The child ends with _exit(0) after its body (no atexit handlers, no
// LeakSanitizer); the parent reads its lines until it exits, and kills it
// (SIGKILL) at the deadline. Lines are arbitrary bytes without '\n'; use
// absl::CEscape for anything else.
//
// Unlike forked_child.h (testonly, key/value results read after the child
// ends), lines arrive while the child runs and the parent can answer them;
// `sslshim demo` relays its app's progress this way.

#ifndef SSLSHIM_RUNTIME_APP_PROCESS_H_
#define SSLSHIM_RUNTIME_APP_PROCESS_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace sslshim::runtime {

// AppChannel is one end of the line channel: the child's view of the host,
// or the parent's view of the app. Not thread-safe; owned by RunAppProcess
// and valid only during the callbacks it is passed to.
class AppChannel {
 public:
  // Borrows `fd`, one end of a connected stream socket pair.
  explicit AppChannel(int fd) : fd_(fd) {}

  // Send writes `line` and a newline. Returns false when the other side is
  // gone (or `line` contains '\n', which would split it).
  bool Send(absl::string_view line);

  // Receive returns the next line (without '\n'). Errors: DeadlineExceeded
  // after `timeout`; Unavailable when the other side closed its end.
  absl::StatusOr<std::string> Receive(absl::Duration timeout);

 private:
  friend absl::Status RunAppProcess(
      const std::function<void(AppChannel&)>&,
      const std::function<void(absl::string_view, AppChannel&)>&, absl::Duration);
  // Fill reads once (waiting until `deadline`) into buffer_; false on EOF
  // or timeout (eof_ tells which).
  bool Fill(absl::Time deadline);

  int fd_;
  std::string buffer_;
  bool eof_ = false;
};

// RunAppProcess forks; the child runs `app` with its channel to the parent
// and exits with _exit(0). The parent calls `on_line` with each line the
// child sends (and the channel to answer it) until the child closes its end,
// then reaps it. Returns OK when the child exited with status 0 within
// `timeout`. Errors: DeadlineExceeded (the child was killed at the
// deadline), Internal (socketpair/fork failure, non-zero exit, killed by a signal,
// naming it).
absl::Status RunAppProcess(
    const std::function<void(AppChannel&)>& app,
    const std::function<void(absl::string_view, AppChannel&)>& on_line,
    absl::Duration timeout);

// DescriptorsUnder returns this process's open descriptors whose
// /proc/self/fd link names a path under directory `dir` (canonicalized
// first, so "a//b/" and symlinked paths work; e.g. the files of
// an LMDB environment a host opened for its app), sorted. A host passes them
// in SandboxOptions::allowed_writable_fds, naming exactly the store's files
// as the writable descriptors it hands the app on purpose.
std::vector<int> DescriptorsUnder(absl::string_view dir);

}  // namespace sslshim::runtime

#endif  // SSLSHIM_RUNTIME_APP_PROCESS_H_
