// forked_child.h (testonly)
// -----------------------------------------------------------------------------
// Runs a test body in a forked child and brings its findings back through a
// pipe, for tests of things that must never happen in the test process itself
// (the no-write sandbox is irreversible).
//
//   ChildResult r = RunInForkedChild([](ChildReporter& out) {
//     if (!InstallNoWriteSandbox().ok()) return;
//     out.Report("open", Outcome(open("x", O_WRONLY | O_CREAT, 0600)));
//   });
//   ASSERT_TRUE(r.status.ok()) << r.status;
//   EXPECT_EQ(r.Get("open"), "EPERM");
//
// Fork before starting threads: the child has only the forking thread. The
// child ends with _exit(0) after the body (so neither atexit handlers nor
// LeakSanitizer run in it); the parent waits up to a deadline and kills it
// after that.

#ifndef SSLSHIM_RUNTIME_FORKED_CHILD_H_
#define SSLSHIM_RUNTIME_FORKED_CHILD_H_

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace sslshim::runtime::testing {

// ChildReporter sends key/value findings from the child to the parent. A key
// reported twice keeps its last value. Used only in the child.
class ChildReporter {
 public:
  explicit ChildReporter(int fd) : fd_(fd) {}

  // Report sends `value` (any bytes) under `key` (no tab or newline).
  void Report(absl::string_view key, absl::string_view value);

  // ReportStatus sends "OK" or the status's text.
  void ReportStatus(absl::string_view key, const absl::Status& status);

 private:
  int fd_;
};

// ChildResult is what the parent learned.
struct ChildResult {
  // OK when the child exited with status 0 before the deadline; otherwise
  // DeadlineExceeded (the child was killed) or Internal (exit code, signal).
  absl::Status status;
  std::map<std::string, std::string> values;

  // Get returns the value reported under `key`, or "<missing>".
  std::string Get(const std::string& key) const;
};

// RunInForkedChild forks, runs `body` in the child, and collects its reports
// until it exits or `timeout` passes (then it is killed with SIGKILL).
ChildResult RunInForkedChild(const std::function<void(ChildReporter&)>& body,
                             absl::Duration timeout = absl::Seconds(60));

// Outcome describes a system call's result: "ok" for rc >= 0, otherwise the
// name of errno ("EPERM", "ENOENT", ...). Call it right after the call.
std::string Outcome(long rc);

// FreshTempDir makes a new empty directory under $TEST_TMPDIR (or /tmp) and
// returns its path; aborts on failure.
std::string FreshTempDir();

// ListDir returns the names in `dir` (without "." and ".."), sorted.
std::vector<std::string> ListDir(const std::string& dir);

}  // namespace sslshim::runtime::testing

#endif  // SSLSHIM_RUNTIME_FORKED_CHILD_H_
