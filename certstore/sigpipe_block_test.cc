// ScopedSigpipeBlock with SIGPIPE at its default disposition (terminate):
// a write to a closed peer inside the guard is EPIPE and the process lives;
// outside it the same write kills (checked in a death test).

#include "certstore/sigpipe_block.h"

#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "gtest/gtest.h"

namespace sslshim::certstore {
namespace {

// Writes to a socket whose peer has closed; returns errno (EPIPE expected).
int WriteToClosedPeer() {
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) return -1;
  close(fds[1]);
  errno = 0;
  const ssize_t n = write(fds[0], "x", 1);  // hiredis-style: write(2).
  const int err = n < 0 ? errno : 0;
  close(fds[0]);
  return err;
}

TEST(ScopedSigpipeBlockTest, WriteToClosedPeerIsEpipeNotDeath) {
  ASSERT_EQ(signal(SIGPIPE, SIG_DFL), signal(SIGPIPE, SIG_DFL));
  int err = 0;
  {
    ScopedSigpipeBlock guard;
    err = WriteToClosedPeer();
  }
  EXPECT_EQ(err, EPIPE);
  // Nothing left pending, and the mask is restored (SIGPIPE unblocked).
  sigset_t pending, mask;
  sigpending(&pending);
  EXPECT_EQ(sigismember(&pending, SIGPIPE), 0);
  pthread_sigmask(SIG_SETMASK, nullptr, &mask);
  EXPECT_EQ(sigismember(&mask, SIGPIPE), 0);
}

TEST(ScopedSigpipeBlockDeathTest, WithoutTheGuardTheSameWriteKills) {
  EXPECT_EXIT(WriteToClosedPeer(), ::testing::KilledBySignal(SIGPIPE), "");
}

}  // namespace
}  // namespace sslshim::certstore
