#include "runtime/forked_child.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"

namespace sslshim::runtime::testing {
namespace {

void WriteAll(int fd, absl::string_view data) {
  while (!data.empty()) {
    ssize_t n = write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    data.remove_prefix(static_cast<size_t>(n));
  }
}

// Values travel one per line: backslash and newline are escaped.
std::string Escape(absl::string_view v) {
  return absl::StrReplaceAll(v, {{"\\", "\\\\"}, {"\n", "\\n"}});
}

std::string Unescape(absl::string_view v) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i] == '\\' && i + 1 < v.size()) {
      out += v[i + 1] == 'n' ? '\n' : v[i + 1];
      ++i;
    } else {
      out += v[i];
    }
  }
  return out;
}

int MillisLeft(absl::Time deadline) {
  return static_cast<int>(std::max<int64_t>(0, absl::ToInt64Milliseconds(deadline - absl::Now())));
}

// ReadUntilEof reads `fd` until EOF or the deadline; false on timeout.
bool ReadUntilEof(int fd, absl::Time deadline, std::string* out) {
  char buf[4096];
  for (;;) {
    pollfd p = {fd, POLLIN, 0};
    int ready = poll(&p, 1, MillisLeft(deadline));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) return false;
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return true;
    out->append(buf, static_cast<size_t>(n));
  }
}

// Reap waits for `pid` until the deadline, then kills it.
absl::Status Reap(pid_t pid, absl::Time deadline) {
  int wstatus = 0;
  for (;;) {
    pid_t r = waitpid(pid, &wstatus, WNOHANG);
    if (r == pid) break;
    if (r < 0 && errno != EINTR) {
      return absl::InternalError(absl::StrCat("waitpid: ", std::strerror(errno)));
    }
    if (absl::Now() >= deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &wstatus, 0);
      return absl::DeadlineExceededError("child timed out and was killed");
    }
    absl::SleepFor(absl::Milliseconds(5));
  }
  if (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0) return absl::OkStatus();
  if (WIFSIGNALED(wstatus)) {
    return absl::InternalError(absl::StrCat("child killed by signal ", WTERMSIG(wstatus)));
  }
  return absl::InternalError(absl::StrCat("child exited with ", WEXITSTATUS(wstatus)));
}

}  // namespace

void ChildReporter::Report(absl::string_view key, absl::string_view value) {
  WriteAll(fd_, absl::StrCat(key, "\t", Escape(value), "\n"));
}

void ChildReporter::ReportStatus(absl::string_view key, const absl::Status& status) {
  Report(key, status.ok() ? "OK" : status.ToString());
}

std::string ChildResult::Get(const std::string& key) const {
  auto it = values.find(key);
  return it == values.end() ? "<missing>" : it->second;
}

ChildResult RunInForkedChild(const std::function<void(ChildReporter&)>& body,
                             absl::Duration timeout) {
  ChildResult result;
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    result.status = absl::InternalError(absl::StrCat("pipe: ", std::strerror(errno)));
    return result;
  }
  const absl::Time deadline = absl::Now() + timeout;
  pid_t pid = fork();
  if (pid < 0) {
    result.status = absl::InternalError(absl::StrCat("fork: ", std::strerror(errno)));
    close(fds[0]);
    close(fds[1]);
    return result;
  }
  if (pid == 0) {
    close(fds[0]);
    ChildReporter reporter(fds[1]);
    body(reporter);
    close(fds[1]);
    _exit(0);
  }
  close(fds[1]);
  std::string text;
  const bool eof = ReadUntilEof(fds[0], deadline, &text);
  close(fds[0]);
  result.status = Reap(pid, eof ? deadline : absl::Now());
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    std::pair<std::string, std::string> kv = absl::StrSplit(line, absl::MaxSplits('\t', 1));
    result.values[kv.first] = Unescape(kv.second);
  }
  return result;
}

std::string Outcome(long rc) {
  if (rc >= 0) return "ok";
  const char* name = strerrorname_np(errno);
  return name != nullptr ? name : absl::StrCat("errno ", errno);
}

std::string FreshTempDir() {
  const char* base = std::getenv("TEST_TMPDIR");
  std::string tmpl = absl::StrCat(base != nullptr ? base : "/tmp", "/nowrite.XXXXXX");
  if (mkdtemp(tmpl.data()) == nullptr) std::abort();
  return tmpl;
}

std::vector<std::string> ListDir(const std::string& dir) {
  std::vector<std::string> names;
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d)) {
      std::string name = e->d_name;
      if (name != "." && name != "..") names.push_back(name);
    }
    closedir(d);
  }
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace sslshim::runtime::testing
