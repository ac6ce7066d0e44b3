#include "runtime/net.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "runtime/dial.h"

namespace sslshim::runtime {
namespace {

struct Address {
  sockaddr_storage storage{};
  socklen_t len = 0;
  int family = AF_INET;
};

absl::StatusOr<Address> ParseAddress(const std::string& host, int port) {
  Address a;
  if (port < 0 || port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("port out of range: ", port));
  }
  auto* v4 = reinterpret_cast<sockaddr_in*>(&a.storage);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&a.storage);
  const std::string name = host == "localhost" ? "127.0.0.1" : host;
  if (inet_pton(AF_INET, name.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<uint16_t>(port));
    a.len = sizeof(*v4);
    a.family = AF_INET;
    return a;
  }
  if (inet_pton(AF_INET6, name.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<uint16_t>(port));
    a.len = sizeof(*v6);
    a.family = AF_INET6;
    return a;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("not an IP address: '", host, "' (use an IPv4 or IPv6 literal)"));
}

absl::Status Errno(absl::string_view what, const std::string& host, int port,
                   int err) {
  return absl::UnavailableError(
      absl::StrCat(what, " ", host, ":", port, ": ", std::strerror(err)));
}

}  // namespace

absl::StatusOr<TcpListener> TcpListener::Listen(const std::string& host,
                                                int port, int backlog) {
  absl::StatusOr<Address> addr = ParseAddress(host, port);
  if (!addr.ok()) return addr.status();
  int fd = socket(addr->family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Errno("socket for", host, port, errno);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr->storage), addr->len) != 0 ||
      listen(fd, backlog) != 0) {
    int err = errno;
    close(fd);
    return Errno("cannot listen on", host, port, err);
  }
  sockaddr_storage bound{};
  socklen_t len = sizeof(bound);
  getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len);
  int actual = bound.ss_family == AF_INET6
                   ? ntohs(reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port)
                   : ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  return TcpListener(fd, actual);
}

TcpListener::TcpListener(TcpListener&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), port_(other.port_) {}

TcpListener& TcpListener::operator=(TcpListener&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    port_ = other.port_;
  }
  return *this;
}

TcpListener::~TcpListener() {
  if (fd_ >= 0) close(fd_);
}

absl::StatusOr<int> TcpListener::Accept(absl::Duration timeout) const {
  const absl::Time deadline = absl::Now() + timeout;
  for (;;) {
    pollfd pfd{fd_, POLLIN, 0};
    const int64_t ms = absl::ToInt64Milliseconds(deadline - absl::Now());
    if (ms <= 0) return absl::DeadlineExceededError("no connection arrived");
    int r = poll(&pfd, 1, static_cast<int>(ms));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return absl::UnavailableError(absl::StrCat("poll: ", std::strerror(errno)));
    if (r == 0) continue;
    int fd = accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd >= 0) {
      int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
      return fd;
    }
    if (errno == EINTR || errno == EAGAIN || errno == ECONNABORTED) continue;
    return absl::UnavailableError(absl::StrCat("accept: ", std::strerror(errno)));
  }
}

absl::StatusOr<int> ConnectTcp(const std::string& host, int port,
                               absl::Duration timeout) {
  if (port < 0 || port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("port out of range: ", port));
  }
  // One connect-with-deadline implementation: the HTTPS client's Dial.
  return Dial(host, port, timeout);
}

}  // namespace sslshim::runtime
