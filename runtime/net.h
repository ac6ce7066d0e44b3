// net.h: the few plain TCP operations the runtime needs (listening on and
// connecting to loopback or any address), with errors as absl::Status.
//
//   absl::StatusOr<TcpListener> l = TcpListener::Listen("127.0.0.1", 0);
//   absl::StatusOr<int> fd = ConnectTcp("127.0.0.1", l->port(), absl::Seconds(5));

#ifndef SSLSHIM_RUNTIME_NET_H_
#define SSLSHIM_RUNTIME_NET_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace sslshim::runtime {

// TcpListener owns a listening socket (closed on destruction). Move-only.
class TcpListener {
 public:
  // Listen binds `host` (an IPv4 or IPv6 literal) and `port` (0 picks a free
  // one) and listens. Errors: InvalidArgument for a bad address, Unavailable
  // (naming host:port and errno) when bind/listen fail.
  static absl::StatusOr<TcpListener> Listen(const std::string& host, int port,
                                            int backlog = 1024);
  TcpListener(TcpListener&& other) noexcept;
  TcpListener& operator=(TcpListener&& other) noexcept;
  ~TcpListener();

  int fd() const { return fd_; }
  int port() const { return port_; }

  // Accept waits up to `timeout` for a connection and returns its fd (owned
  // by the caller, CLOEXEC, blocking). Errors: DeadlineExceeded when none
  // arrived, Unavailable on accept errors.
  absl::StatusOr<int> Accept(absl::Duration timeout) const;

 private:
  TcpListener(int fd, int port) : fd_(fd), port_(port) {}
  int fd_ = -1;
  int port_ = 0;
};

// ConnectTcp connects to host:port (a name or an IP literal) within
// `timeout` and returns a blocking fd owned by the caller (see Dial in
// dial.h). Errors: InvalidArgument (port out of range), NotFound (unknown
// name), Unavailable ("Connection refused ..."), DeadlineExceeded.
absl::StatusOr<int> ConnectTcp(const std::string& host, int port,
                               absl::Duration timeout);

}  // namespace sslshim::runtime

#endif  // SSLSHIM_RUNTIME_NET_H_
