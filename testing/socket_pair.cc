#include "testing/socket_pair.h"

#include <unistd.h>

#include "absl/status/status.h"

namespace sslshim::testing {
namespace {

constexpr absl::Duration kTimeout = absl::Seconds(10);

}  // namespace

absl::StatusOr<Listener> Listener::Create(const std::string& host) {
  absl::StatusOr<runtime::TcpListener> l = runtime::TcpListener::Listen(host, 0, 512);
  if (!l.ok()) return l.status();
  return Listener(std::move(*l));
}

int Listener::Accept() const {
  absl::StatusOr<int> fd = listener_.Accept(kTimeout);
  return fd.ok() ? *fd : -1;
}

int ConnectTcp(int port, const std::string& host) {
  absl::StatusOr<int> fd = runtime::ConnectTcp(host, port, kTimeout);
  return fd.ok() ? *fd : -1;
}

absl::StatusOr<TcpPair> MakeTcpPair() {
  absl::StatusOr<Listener> l = Listener::Create();
  if (!l.ok()) return l.status();
  TcpPair pair;
  pair.client = ConnectTcp(l->port());
  if (pair.client < 0) return absl::UnavailableError("connect failed");
  pair.server = l->Accept();
  if (pair.server < 0) {
    close(pair.client);
    return absl::UnavailableError("accept failed");
  }
  return pair;
}

}  // namespace sslshim::testing
