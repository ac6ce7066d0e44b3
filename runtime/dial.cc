#include "runtime/dial.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "shim/errors.h"

namespace sslshim::runtime {
namespace {

struct AddrInfoDeleter {
  void operator()(addrinfo* ai) const { freeaddrinfo(ai); }
};

// ConnectOne connects a non-blocking socket to `ai` and waits until
// `deadline`. Returns the fd, or -1 with `*err` set (ETIMEDOUT at the
// deadline).
int ConnectOne(const addrinfo* ai, absl::Time deadline, int* err) {
  int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    *err = errno;
    return -1;
  }
  if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
    if (errno != EINPROGRESS) {
      *err = errno;
      close(fd);
      return -1;
    }
    for (;;) {
      const int64_t ms = absl::ToInt64Milliseconds(deadline - absl::Now());
      if (ms <= 0) {
        *err = ETIMEDOUT;
        close(fd);
        return -1;
      }
      pollfd pfd{fd, POLLOUT, 0};
      const int r = poll(&pfd, 1, static_cast<int>(ms));
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) {
        *err = errno;
        close(fd);
        return -1;
      }
      if (r > 0) break;
    }
    int so_error = 0;
    socklen_t len = sizeof(so_error);
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &len);
    if (so_error != 0) {
      *err = so_error;
      close(fd);
      return -1;
    }
  }
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return fd;
}

}  // namespace

absl::StatusOr<int> Dial(const std::string& host, int port, absl::Duration timeout) {
  const std::string where = absl::StrCat(
      host.find(':') != std::string::npos ? absl::StrCat("[", host, "]") : host, ":",
      port);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* raw = nullptr;
  const std::string service = absl::StrCat(port);
  const int gai = getaddrinfo(host.c_str(), service.c_str(), &hints, &raw);
  std::unique_ptr<addrinfo, AddrInfoDeleter> list(raw);
  if (gai != 0) {
    std::string message =
        absl::StrCat("cannot resolve host '", host, "': ", gai_strerror(gai));
    if (gai == EAI_SYSTEM) absl::StrAppend(&message, ": ", std::strerror(errno));
    if (gai == EAI_NONAME || gai == EAI_NODATA) {
      return absl::NotFoundError(message);
    }
    return absl::UnavailableError(message);
  }
  const absl::Time deadline = absl::Now() + timeout;
  int last_err = 0;
  for (const addrinfo* ai = list.get(); ai != nullptr; ai = ai->ai_next) {
    int err = 0;
    int fd = ConnectOne(ai, deadline, &err);
    if (fd >= 0) return fd;
    last_err = err;
    if (err == ETIMEDOUT) break;
  }
  if (last_err == ETIMEDOUT) {
    return shim::MakeError(shim::ErrorKind::kTimeoutError,
                           absl::StatusCode::kDeadlineExceeded,
                           absl::StrCat("connecting to ", where, " timed out after ",
                                        absl::FormatDuration(timeout)));
  }
  return absl::UnavailableError(
      absl::StrCat("cannot connect to ", where, ": ", std::strerror(last_err),
                   last_err == ECONNREFUSED ? " (nothing listening on that port)" : ""));
}

}  // namespace sslshim::runtime
