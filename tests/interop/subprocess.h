// subprocess.h (testonly)
// -----------------------------------------------------------------------------
// Runs a real peer program (openssl, bssl-tool, python3) as a child process
// with captured stdout/stderr, optional stdin bytes, and a hard deadline, so an
// interop test can never hang on a peer and never leaves one behind.
//
//   absl::StatusOr<std::unique_ptr<Subprocess>> p = Subprocess::Start(
//       {"/usr/bin/openssl", "s_server", "-accept", "127.0.0.1:0", ...});
//   absl::StatusOr<std::string> out = (*p)->WaitForOutput("ACCEPT ");
//   ... talk to the peer ...
//   SubprocessResult r = (*p)->Wait();   // exit status + all output
//
// The child runs in its own process group; the destructor SIGKILLs the group
// and reaps the child if it is still running. Every pipe end in this process
// is O_CLOEXEC and closed by Wait() or the destructor.
// Thread-safety: one Subprocess is used by one thread at a time.

#ifndef SSLSHIM_TESTS_INTEROP_SUBPROCESS_H_
#define SSLSHIM_TESTS_INTEROP_SUBPROCESS_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace sslshim::interop {

// SubprocessResult is how a child ended and everything it printed.
struct SubprocessResult {
  int exit_code = -1;    // Exit status, or -1 when killed by a signal.
  int term_signal = 0;   // The signal that ended it, or 0.
  bool timed_out = false;  // Killed by us at the deadline.
  std::string out;
  std::string err;
};

class Subprocess {
 public:
  // Start runs argv[0] (an absolute path) with `argv`, writes `stdin_data` to
  // its stdin and then closes stdin unless `keep_stdin_open`. The child is
  // killed `timeout` after Start. Errors: Unavailable when the pipes or the
  // spawn fail (e.g. the program does not exist).
  static absl::StatusOr<std::unique_ptr<Subprocess>> Start(
      std::vector<std::string> argv, std::string stdin_data = "",
      absl::Duration timeout = absl::Seconds(15), bool keep_stdin_open = false);

  // Run is Start + Wait.
  static absl::StatusOr<SubprocessResult> Run(
      std::vector<std::string> argv, std::string stdin_data = "",
      absl::Duration timeout = absl::Seconds(15));

  // Kills the process group (SIGKILL) if still running and reaps the child.
  ~Subprocess();
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;

  // WaitForOutput pumps the pipes until stdout (or stderr, when `on_stderr`)
  // contains `needle`, and returns that stream so far. Errors:
  // DeadlineExceeded at `timeout` (or the child's deadline), Aborted when the
  // child exits first; both carry the output so far.
  absl::StatusOr<std::string> WaitForOutput(absl::string_view needle,
                                            absl::Duration timeout = absl::Seconds(10),
                                            bool on_stderr = false);

  // WriteStdin queues more stdin bytes (keep_stdin_open); CloseStdin ends
  // stdin once the queue is written.
  void WriteStdin(absl::string_view data);
  void CloseStdin();

  // Wait pumps the pipes until the child exits (or kills it at the deadline)
  // and returns its result. Idempotent.
  SubprocessResult Wait();

  pid_t pid() const { return pid_; }
  const std::string& out() const { return result_.out; }
  const std::string& err() const { return result_.err; }

 private:
  Subprocess() = default;
  // Pump moves bytes for up to `max_wait` and reaps the child if it exited.
  void Pump(absl::Duration max_wait);
  void Reap(bool block);
  void CloseFd(int& fd);

  pid_t pid_ = -1;
  int stdin_fd_ = -1;
  int stdout_fd_ = -1;
  int stderr_fd_ = -1;
  std::string pending_stdin_;
  bool close_stdin_when_drained_ = true;
  absl::Time deadline_;
  SubprocessResult result_;
};

}  // namespace sslshim::interop

#endif  // SSLSHIM_TESTS_INTEROP_SUBPROCESS_H_
