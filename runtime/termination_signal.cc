#include "runtime/termination_signal.h"

#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace sslshim::runtime {
namespace {

sigset_t TerminationSet() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  return set;
}

absl::Status ErrnoError(const char* what, int err) {
  return absl::InternalError(absl::StrCat(what, ": ", std::strerror(err)));
}

}  // namespace

absl::Status BlockTerminationSignals() {
  sigset_t set = TerminationSet();
  const int err = pthread_sigmask(SIG_BLOCK, &set, nullptr);
  if (err != 0) return ErrnoError("pthread_sigmask", err);
  return absl::OkStatus();
}

absl::StatusOr<int> WaitForTerminationSignal(absl::Duration timeout) {
  sigset_t current;
  if (pthread_sigmask(SIG_BLOCK, nullptr, &current) != 0) {
    return ErrnoError("pthread_sigmask", errno);
  }
  if (!sigismember(&current, SIGTERM) || !sigismember(&current, SIGINT)) {
    return absl::FailedPreconditionError(
        "SIGTERM/SIGINT are not blocked; call BlockTerminationSignals() "
        "before starting threads");
  }
  sigset_t set = TerminationSet();
  const int fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
  if (fd < 0) return ErrnoError("signalfd", errno);
  const absl::Time deadline = absl::Now() + timeout;
  absl::StatusOr<int> result =
      absl::DeadlineExceededError("no termination signal");
  for (;;) {
    signalfd_siginfo info{};
    const ssize_t n = read(fd, &info, sizeof(info));
    if (n == static_cast<ssize_t>(sizeof(info))) {
      result = static_cast<int>(info.ssi_signo);
      break;
    }
    if (n < 0 && errno != EAGAIN && errno != EINTR) {
      result = ErrnoError("read(signalfd)", errno);
      break;
    }
    int wait_ms = -1;
    if (timeout != absl::InfiniteDuration()) {
      const absl::Duration left = deadline - absl::Now();
      if (left <= absl::ZeroDuration()) break;
      wait_ms = static_cast<int>(
          std::min<int64_t>(absl::ToInt64Milliseconds(left) + 1, INT_MAX));
    }
    pollfd pfd{fd, POLLIN, 0};
    poll(&pfd, 1, wait_ms);
  }
  close(fd);
  return result;
}

}  // namespace sslshim::runtime
