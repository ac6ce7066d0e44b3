// socket_pair.h: real loopback TCP sockets for tests (never socketpair(2):
// the facade must work over the same kind of socket it meets in production).
//
//   absl::StatusOr<Listener> l = Listener::Create();   // 127.0.0.1, port 0
//   int client = ConnectTcp(l->port());
//   int server = l->Accept();

#ifndef SSLSHIM_TESTING_SOCKET_PAIR_H_
#define SSLSHIM_TESTING_SOCKET_PAIR_H_

#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "runtime/net.h"

namespace sslshim::testing {

// Listener is a listening TCP socket on 127.0.0.1 (or ::1) with a kernel-
// chosen port (a runtime::TcpListener with a terse test API). Move-only.
class Listener {
 public:
  // Create binds to `host` ("127.0.0.1" or "::1") port 0 and listens.
  static absl::StatusOr<Listener> Create(const std::string& host = "127.0.0.1");

  int port() const { return listener_.port(); }
  int fd() const { return listener_.fd(); }
  // Accept returns a connected fd (waits up to 10 s), or -1 on error.
  int Accept() const;

 private:
  explicit Listener(runtime::TcpListener listener) : listener_(std::move(listener)) {}
  runtime::TcpListener listener_;
};

// ConnectTcp connects to host:port and returns the fd, or -1 on error.
int ConnectTcp(int port, const std::string& host = "127.0.0.1");

// TcpPair is both ends of one loopback TCP connection.
struct TcpPair {
  int client = -1;
  int server = -1;
};

// MakeTcpPair returns a connected pair (the caller owns both fds).
absl::StatusOr<TcpPair> MakeTcpPair();

}  // namespace sslshim::testing

#endif  // SSLSHIM_TESTING_SOCKET_PAIR_H_
