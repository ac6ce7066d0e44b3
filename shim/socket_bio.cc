#include "shim/socket_bio.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

namespace sslshim::shim {
namespace {

// The BIO's data slot holds the descriptor (never owned).
int FdOf(BIO* bio) {
  return static_cast<int>(reinterpret_cast<intptr_t>(BIO_get_data(bio)));
}

// Errors after which the same call may succeed later (the fd BIO's list,
// minus EINTR, which SSLSocket retries itself as SSL_ERROR_SYSCALL).
bool ShouldRetry(int err) {
  return err == EAGAIN || err == EWOULDBLOCK || err == EINPROGRESS ||
         err == EALREADY || err == ENOTCONN;
}

int SocketRead(BIO* bio, char* out, int len) {
  BIO_clear_retry_flags(bio);
  const int fd = FdOf(bio);
  ssize_t n = ::recv(fd, out, static_cast<size_t>(len), 0);
  if (n < 0 && errno == ENOTSOCK) n = ::read(fd, out, static_cast<size_t>(len));
  if (n < 0 && ShouldRetry(errno)) BIO_set_retry_read(bio);
  return static_cast<int>(n);
}

int SocketWrite(BIO* bio, const char* in, int len) {
  BIO_clear_retry_flags(bio);
  const int fd = FdOf(bio);
  // MSG_NOSIGNAL: a closed peer is EPIPE for this connection, not SIGPIPE
  // for the process.
  ssize_t n = ::send(fd, in, static_cast<size_t>(len), MSG_NOSIGNAL);
  if (n < 0 && errno == ENOTSOCK) n = ::write(fd, in, static_cast<size_t>(len));
  if (n < 0 && ShouldRetry(errno)) BIO_set_retry_write(bio);
  return static_cast<int>(n);
}

long SocketCtrl(BIO* bio, int cmd, long /*num*/, void* ptr) {
  switch (cmd) {
    case BIO_C_GET_FD:
      if (ptr != nullptr) *static_cast<int*>(ptr) = FdOf(bio);
      return FdOf(bio);
    case BIO_CTRL_FLUSH:
      return 1;
    default:
      return 0;
  }
}

const BIO_METHOD* SocketMethod() {
  static const BIO_METHOD* const method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_TYPE_SOCKET, "sslshim socket");
    if (m == nullptr) return static_cast<BIO_METHOD*>(nullptr);
    BIO_meth_set_read(m, SocketRead);
    BIO_meth_set_write(m, SocketWrite);
    BIO_meth_set_ctrl(m, SocketCtrl);
    return m;
  }();
  return method;
}

}  // namespace

bssl::UniquePtr<BIO> NewSocketBio(int fd) {
  const BIO_METHOD* method = SocketMethod();
  if (method == nullptr) return nullptr;
  bssl::UniquePtr<BIO> bio(BIO_new(method));
  if (bio == nullptr) return nullptr;
  BIO_set_data(bio.get(), reinterpret_cast<void*>(static_cast<intptr_t>(fd)));
  BIO_set_init(bio.get(), 1);
  return bio;
}

}  // namespace sslshim::shim
