#include "tests/interop/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

extern char** environ;

namespace sslshim::interop {

absl::StatusOr<std::unique_ptr<Subprocess>> Subprocess::Start(
    std::vector<std::string> argv, std::string stdin_data,
    absl::Duration timeout, bool keep_stdin_open) {
  // A peer that exits early must not kill the test with SIGPIPE.
  signal(SIGPIPE, SIG_IGN);
  if (argv.empty()) return absl::InvalidArgumentError("empty argv");
  int in[2], out[2], err[2];
  if (pipe2(in, O_CLOEXEC) != 0) return absl::UnavailableError("pipe");
  if (pipe2(out, O_CLOEXEC) != 0) {
    close(in[0]), close(in[1]);
    return absl::UnavailableError("pipe");
  }
  if (pipe2(err, O_CLOEXEC) != 0) {
    close(in[0]), close(in[1]), close(out[0]), close(out[1]);
    return absl::UnavailableError("pipe");
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  // dup2 clears O_CLOEXEC on the child's 0/1/2; every other end closes at exec.
  posix_spawn_file_actions_adddup2(&actions, in[0], 0);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err[1], 2);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF |
                                      POSIX_SPAWN_SETSIGMASK);
  posix_spawnattr_setpgroup(&attr, 0);
  sigset_t all, none;
  sigfillset(&all);
  sigemptyset(&none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setsigmask(&attr, &none);
  std::vector<char*> cargv;
  for (std::string& a : argv) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, cargv[0], &actions, &attr, cargv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  close(in[0]);
  close(out[1]);
  close(err[1]);
  if (rc != 0) {
    close(in[1]), close(out[0]), close(err[0]);
    return absl::UnavailableError(
        absl::StrCat("spawn ", argv[0], ": ", std::strerror(rc)));
  }
  std::unique_ptr<Subprocess> p(new Subprocess());
  p->pid_ = pid;
  p->stdin_fd_ = in[1];
  p->stdout_fd_ = out[0];
  p->stderr_fd_ = err[0];
  fcntl(p->stdin_fd_, F_SETFL, O_NONBLOCK);
  p->pending_stdin_ = std::move(stdin_data);
  p->close_stdin_when_drained_ = !keep_stdin_open;
  p->deadline_ = absl::Now() + timeout;
  p->Pump(absl::ZeroDuration());
  return p;
}

absl::StatusOr<SubprocessResult> Subprocess::Run(std::vector<std::string> argv,
                                                 std::string stdin_data,
                                                 absl::Duration timeout) {
  absl::StatusOr<std::unique_ptr<Subprocess>> p =
      Start(std::move(argv), std::move(stdin_data), timeout);
  if (!p.ok()) return p.status();
  return (*p)->Wait();
}

Subprocess::~Subprocess() {
  if (pid_ > 0) {
    kill(-pid_, SIGKILL);
    kill(pid_, SIGKILL);
    Reap(/*block=*/true);
  }
  CloseFd(stdin_fd_);
  CloseFd(stdout_fd_);
  CloseFd(stderr_fd_);
}

void Subprocess::CloseFd(int& fd) {
  if (fd >= 0) close(fd);
  fd = -1;
}

void Subprocess::Reap(bool block) {
  if (pid_ <= 0) return;
  int status = 0;
  pid_t r;
  do {
    r = waitpid(pid_, &status, block ? 0 : WNOHANG);
  } while (r < 0 && errno == EINTR);
  if (r != pid_) return;
  pid_ = -1;
  if (WIFEXITED(status)) {
    result_.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    result_.term_signal = WTERMSIG(status);
  }
}

void Subprocess::WriteStdin(absl::string_view data) {
  pending_stdin_.append(data.data(), data.size());
  Pump(absl::ZeroDuration());
}

void Subprocess::CloseStdin() {
  close_stdin_when_drained_ = true;
  Pump(absl::ZeroDuration());
}

void Subprocess::Pump(absl::Duration max_wait) {
  if (pid_ > 0 && absl::Now() >= deadline_) {
    result_.timed_out = true;
    kill(-pid_, SIGKILL);
    kill(pid_, SIGKILL);
  }
  if (stdin_fd_ >= 0 && pending_stdin_.empty() && close_stdin_when_drained_) {
    CloseFd(stdin_fd_);
  }
  pollfd fds[3];
  int n = 0;
  if (stdout_fd_ >= 0) fds[n++] = {stdout_fd_, POLLIN, 0};
  if (stderr_fd_ >= 0) fds[n++] = {stderr_fd_, POLLIN, 0};
  if (stdin_fd_ >= 0 && !pending_stdin_.empty()) fds[n++] = {stdin_fd_, POLLOUT, 0};
  absl::Duration wait = std::min(max_wait, std::max(absl::ZeroDuration(),
                                                    deadline_ - absl::Now()));
  int ms = static_cast<int>(absl::ToInt64Milliseconds(wait));
  if (n > 0 && poll(fds, n, ms) > 0) {
    for (int i = 0; i < n; ++i) {
      if (fds[i].revents == 0) continue;
      if (fds[i].fd == stdin_fd_) {
        ssize_t w = write(stdin_fd_, pending_stdin_.data(), pending_stdin_.size());
        if (w > 0) {
          pending_stdin_.erase(0, w);
        } else if (w < 0 && errno != EAGAIN && errno != EINTR) {
          pending_stdin_.clear();  // The child closed its stdin.
          CloseFd(stdin_fd_);
        }
        continue;
      }
      int& fd = fds[i].fd == stdout_fd_ ? stdout_fd_ : stderr_fd_;
      std::string& sink = fds[i].fd == stdout_fd_ ? result_.out : result_.err;
      char buf[4096];
      ssize_t r = read(fd, buf, sizeof(buf));
      if (r > 0) {
        sink.append(buf, r);
      } else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
        CloseFd(fd);
      }
    }
  } else if (n == 0 && ms > 0) {
    usleep(std::min(ms, 10) * 1000);
  }
  if (stdin_fd_ >= 0 && pending_stdin_.empty() && close_stdin_when_drained_) {
    CloseFd(stdin_fd_);
  }
  Reap(/*block=*/false);
}

absl::StatusOr<std::string> Subprocess::WaitForOutput(absl::string_view needle,
                                                      absl::Duration timeout,
                                                      bool on_stderr) {
  const absl::Time until = absl::Now() + timeout;
  const std::string& stream = on_stderr ? result_.err : result_.out;
  for (;;) {
    if (stream.find(needle.data(), 0, needle.size()) != std::string::npos) {
      return stream;
    }
    const bool open = on_stderr ? stderr_fd_ >= 0 : stdout_fd_ >= 0;
    if (!open) {
      return absl::AbortedError(absl::StrCat(
          "peer exited before printing '", needle, "'; stdout: ", result_.out,
          " stderr: ", result_.err));
    }
    if (absl::Now() >= until || absl::Now() >= deadline_) {
      return absl::DeadlineExceededError(absl::StrCat(
          "no '", needle, "' in time; stdout: ", result_.out,
          " stderr: ", result_.err));
    }
    Pump(absl::Milliseconds(50));
  }
}

SubprocessResult Subprocess::Wait() {
  while (pid_ > 0 || stdout_fd_ >= 0 || stderr_fd_ >= 0) {
    Pump(absl::Milliseconds(50));
    // A grandchild may hold the pipes open after the child exits: give it
    // until the deadline, then stop reading.
    if (pid_ <= 0 && absl::Now() >= deadline_) break;
  }
  CloseFd(stdin_fd_);
  CloseFd(stdout_fd_);
  CloseFd(stderr_fd_);
  return result_;
}

}  // namespace sslshim::interop
