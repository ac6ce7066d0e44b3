#include "runtime/app_process.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace sslshim::runtime {
namespace {

absl::Status ErrnoError(absl::string_view what) {
  return absl::InternalError(absl::StrCat(what, ": ", std::strerror(errno)));
}

// WaitChild reaps `pid`, killing it first when `deadline` has passed.
absl::Status WaitChild(pid_t pid, absl::Time deadline) {
  int wstatus = 0;
  bool killed = false;
  for (;;) {
    pid_t r = waitpid(pid, &wstatus, WNOHANG);
    if (r == pid) break;
    if (r < 0 && errno != EINTR) return ErrnoError("waitpid");
    if (!killed && absl::Now() >= deadline) {
      kill(pid, SIGKILL);
      killed = true;
    }
    absl::SleepFor(absl::Milliseconds(2));
  }
  if (killed) return absl::DeadlineExceededError("app process timed out and was killed");
  if (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0) return absl::OkStatus();
  if (WIFSIGNALED(wstatus)) {
    return absl::InternalError(absl::StrCat("app process killed by signal ",
                                            WTERMSIG(wstatus), " (",
                                            strsignal(WTERMSIG(wstatus)), ")"));
  }
  return absl::InternalError(
      absl::StrCat("app process exited with ", WEXITSTATUS(wstatus)));
}

}  // namespace

bool AppChannel::Send(absl::string_view line) {
  if (absl::StrContains(line, '\n')) return false;
  std::string data = absl::StrCat(line, "\n");
  absl::string_view rest = data;
  while (!rest.empty()) {
    ssize_t n = send(fd_, rest.data(), rest.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    rest.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

bool AppChannel::Fill(absl::Time deadline) {
  char buf[4096];
  for (;;) {
    const int64_t ms =
        std::max<int64_t>(0, absl::ToInt64Milliseconds(deadline - absl::Now()));
    pollfd p = {fd_, POLLIN, 0};
    int ready = poll(&p, 1, static_cast<int>(std::min<int64_t>(ms, 1 << 30)));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) return false;
    ssize_t n = read(fd_, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      eof_ = true;
      return false;
    }
    buffer_.append(buf, static_cast<size_t>(n));
    return true;
  }
}

absl::StatusOr<std::string> AppChannel::Receive(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  for (;;) {
    size_t nl = buffer_.find('\n');
    if (nl != std::string::npos) {
      std::string line = buffer_.substr(0, nl);
      buffer_.erase(0, nl + 1);
      return line;
    }
    if (eof_) return absl::UnavailableError("the other side closed the channel");
    if (!Fill(deadline) && !eof_) {
      return absl::DeadlineExceededError(
          absl::StrCat("no line within ", absl::FormatDuration(timeout)));
    }
  }
}

absl::Status RunAppProcess(
    const std::function<void(AppChannel&)>& app,
    const std::function<void(absl::string_view, AppChannel&)>& on_line,
    absl::Duration timeout) {
  int fds[2];  // fds[0]: the parent's end; fds[1]: the child's.
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
    return ErrnoError("socketpair");
  }
  const absl::Time deadline = absl::Now() + timeout;
  pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    AppChannel host(fds[1]);
    app(host);
    _exit(0);
  }
  close(fds[1]);
  if (pid < 0) {
    absl::Status s = ErrnoError("fork");
    close(fds[0]);
    return s;
  }
  AppChannel child(fds[0]);
  for (;;) {
    absl::StatusOr<std::string> line = child.Receive(deadline - absl::Now());
    if (!line.ok()) break;  // The app closed its end (exited), or timeout.
    on_line(*line, child);
  }
  close(fds[0]);
  return WaitChild(pid, child.eof_ ? deadline : absl::Now());
}

std::vector<int> DescriptorsUnder(absl::string_view dir) {
  // /proc/self/fd links name canonical paths: compare against the
  // directory's canonical path.
  char* real = realpath(std::string(dir).c_str(), nullptr);
  std::string prefix = real != nullptr ? real : std::string(dir);
  free(real);
  if (!absl::EndsWith(prefix, "/")) prefix += '/';
  std::vector<int> fds;
  DIR* d = opendir("/proc/self/fd");
  if (d == nullptr) return fds;
  const int own = dirfd(d);
  while (dirent* e = readdir(d)) {
    int fd = 0;
    if (!absl::SimpleAtoi(e->d_name, &fd) || fd == own) continue;
    char target[4096];
    ssize_t n =
        readlink(absl::StrCat("/proc/self/fd/", fd).c_str(), target, sizeof(target) - 1);
    if (n <= 0) continue;
    if (absl::StartsWith(absl::string_view(target, static_cast<size_t>(n)), prefix)) {
      fds.push_back(fd);
    }
  }
  closedir(d);
  std::sort(fds.begin(), fds.end());
  return fds;
}

}  // namespace sslshim::runtime
