// Tests of the peer-process helper: output capture, stdin, exit status, the
// hard deadline, and that nothing (process or descriptor) is left behind.

#include "tests/interop/subprocess.h"

#include <signal.h>

#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "testing/fd_count.h"

namespace sslshim::interop {
namespace {

TEST(SubprocessTest, CapturesOutputStdinAndExitCode) {
  const int fds = sslshim::testing::OpenFdCount();
  absl::StatusOr<SubprocessResult> r = Subprocess::Run(
      {"/bin/sh", "-c", "cat; echo oops >&2; exit 3"}, "from stdin\n");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->exit_code, 3);
  EXPECT_EQ(r->out, "from stdin\n");
  EXPECT_EQ(r->err, "oops\n");
  EXPECT_FALSE(r->timed_out);
  EXPECT_EQ(sslshim::testing::OpenFdCount(), fds);
}

TEST(SubprocessTest, DeadlineKillsAHangingChild) {
  const absl::Time start = absl::Now();
  absl::StatusOr<SubprocessResult> r =
      Subprocess::Run({"/bin/sleep", "30"}, "", absl::Milliseconds(300));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->timed_out);
  EXPECT_EQ(r->term_signal, SIGKILL);
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
}

TEST(SubprocessTest, WaitForOutputThenInteract) {
  auto p = Subprocess::Start({"/bin/sh", "-c", "echo READY; read x; echo got:$x"},
                             "", absl::Seconds(10), /*keep_stdin_open=*/true);
  ASSERT_TRUE(p.ok()) << p.status();
  ASSERT_TRUE((*p)->WaitForOutput("READY").ok());
  (*p)->WriteStdin("42\n");
  (*p)->CloseStdin();
  ASSERT_TRUE((*p)->WaitForOutput("got:42").ok());
  EXPECT_EQ((*p)->Wait().exit_code, 0);
}

TEST(SubprocessTest, WaitForOutputReportsEarlyExit) {
  auto p = Subprocess::Start({"/bin/sh", "-c", "echo bye"});
  ASSERT_TRUE(p.ok());
  absl::StatusOr<std::string> out = (*p)->WaitForOutput("never");
  EXPECT_EQ(out.status().code(), absl::StatusCode::kAborted);
}

TEST(SubprocessTest, DestructorKillsAndReaps) {
  const int fds = sslshim::testing::OpenFdCount();
  pid_t pid;
  {
    auto p = Subprocess::Start({"/bin/sleep", "30"});
    ASSERT_TRUE(p.ok());
    pid = (*p)->pid();
  }
  EXPECT_EQ(kill(pid, 0), -1);  // Reaped: no such process.
  EXPECT_EQ(sslshim::testing::OpenFdCount(), fds);
}

TEST(SubprocessTest, MissingProgramIsAnError) {
  EXPECT_FALSE(Subprocess::Start({"/nonexistent/peer"}).ok());
}

}  // namespace
}  // namespace sslshim::interop
