#include "tests/adversarial/raw_tls.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "openssl/bio.h"
#include "openssl/err.h"
#include "tests/bench/bench_util.h"

namespace sslshim::adversarial {
namespace {

void SetTimeouts(int fd, absl::Duration timeout) {
  const timeval tv = absl::ToTimeval(timeout);
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

bssl::UniquePtr<SSL_CTX> ClientContext(const RawOptions& options) {
  bssl::UniquePtr<SSL_CTX> ctx = bench::RawClientCtx(
      testing::SharedTestPki(testing::KeyType::kP256), options.client_cert);
  SSL_CTX_set_min_proto_version(ctx.get(), options.min_version);
  SSL_CTX_set_max_proto_version(ctx.get(), options.max_version);
  return ctx;
}

bssl::UniquePtr<SSL> NewClient(SSL_CTX* ctx) {
  bssl::UniquePtr<SSL> ssl(SSL_new(ctx));
  SSL_set_connect_state(ssl.get());
  SSL_set_tlsext_host_name(ssl.get(), "localhost");
  return ssl;
}

}  // namespace

std::string SslErrorText(SSL* ssl, int ret) {
  const int code = SSL_get_error(ssl, ret);
  std::string text = absl::StrCat("SSL_get_error=", code);
  if (code == SSL_ERROR_SYSCALL) {
    absl::StrAppend(&text, " errno=", std::strerror(errno));
  }
  char buf[256];
  while (const uint32_t err = ERR_get_error()) {
    ERR_error_string_n(err, buf, sizeof(buf));
    absl::StrAppend(&text, " ", buf);
  }
  return text;
}

absl::StatusOr<int> ConnectTcpLoopback(int port, absl::Duration timeout) {
  const int fd = bench::ConnectLoopback(port);
  if (fd < 0) {
    return absl::UnavailableError(
        absl::StrCat("connect 127.0.0.1:", port, ": ", std::strerror(errno)));
  }
  SetTimeouts(fd, timeout);
  return fd;
}

void CloseFd(int fd, CloseHow how) {
  if (how == CloseHow::kRst) {
    const linger l{.l_onoff = 1, .l_linger = 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
  }
  close(fd);
}

std::string LocalName(int fd) {
  sockaddr_in addr{};
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  return absl::StrCat("127.0.0.1:", ntohs(addr.sin_port));
}

std::string ClientHelloBytes(const RawOptions& options) {
  bssl::UniquePtr<SSL_CTX> ctx = ClientContext(options);
  bssl::UniquePtr<SSL> ssl = NewClient(ctx.get());
  BIO* rbio = BIO_new(BIO_s_mem());
  BIO* wbio = BIO_new(BIO_s_mem());
  SSL_set_bio(ssl.get(), rbio, wbio);  // SSL_set_bio takes ownership.
  (void)SSL_do_handshake(ssl.get());   // Wants to read the ServerHello.
  const uint8_t* data = nullptr;
  size_t len = 0;
  BIO_mem_contents(wbio, &data, &len);
  return std::string(reinterpret_cast<const char*>(data), len);
}

absl::Status SendAll(int fd, absl::string_view data) {
  while (!data.empty()) {
    const ssize_t n = send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      return absl::UnavailableError(
          absl::StrCat("send: ", std::strerror(errno)));
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

std::string RecvUntilClose(int fd, absl::Duration max_wait) {
  std::string out;
  const absl::Time deadline = absl::Now() + max_wait;
  char buf[16384];
  for (;;) {
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) return out;
    pollfd p{.fd = fd, .events = POLLIN, .revents = 0};
    if (poll(&p, 1, static_cast<int>(absl::ToInt64Milliseconds(left)) + 1) <= 0) {
      return out;
    }
    const ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return out;
    out.append(buf, static_cast<size_t>(n));
  }
}

absl::StatusOr<std::unique_ptr<RawTls>> RawTls::Connect(
    int port, const RawOptions& options) {
  absl::StatusOr<int> fd = ConnectTcpLoopback(port, options.timeout);
  if (!fd.ok()) return fd.status();
  bssl::UniquePtr<SSL_CTX> ctx = ClientContext(options);
  bssl::UniquePtr<SSL> ssl = NewClient(ctx.get());
  SSL_set_fd(ssl.get(), *fd);
  std::unique_ptr<RawTls> c(new RawTls(std::move(ctx), std::move(ssl), *fd));
  const int ret = SSL_do_handshake(c->ssl());
  if (ret != 1) {
    return absl::AbortedError(
        absl::StrCat("handshake: ", SslErrorText(c->ssl(), ret)));
  }
  return c;
}

RawTls::~RawTls() { Close(); }

absl::Status RawTls::Write(absl::string_view data) {
  return WriteInRecords(data, data.size());
}

absl::Status RawTls::WriteInRecords(absl::string_view data,
                                    size_t record_size) {
  while (!data.empty()) {
    const int len = static_cast<int>(std::min(data.size(), record_size));
    const int n = SSL_write(ssl_.get(), data.data(), len);
    if (n <= 0) {
      return absl::AbortedError(
          absl::StrCat("SSL_write: ", SslErrorText(ssl_.get(), n)));
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> RawTls::ReadSome() {
  char buf[16384];
  const int n = SSL_read(ssl_.get(), buf, sizeof(buf));
  if (n > 0) return std::string(buf, static_cast<size_t>(n));
  const int code = SSL_get_error(ssl_.get(), n);
  if (code == SSL_ERROR_ZERO_RETURN ||
      (code == SSL_ERROR_SYSCALL && n == 0 && ERR_peek_error() == 0)) {
    return std::string();
  }
  return absl::AbortedError(
      absl::StrCat("SSL_read: ", SslErrorText(ssl_.get(), n)));
}

std::string RawTls::ReadUntilClose(absl::Duration max_wait) {
  std::string out;
  const absl::Time deadline = absl::Now() + max_wait;
  while (absl::Now() < deadline) {
    absl::StatusOr<std::string> chunk = ReadSome();
    if (!chunk.ok() || chunk->empty()) break;
    out += *chunk;
  }
  return out;
}

void RawTls::Close(CloseHow how) {
  if (fd_ < 0) return;
  CloseFd(fd_, how);
  fd_ = -1;
}

}  // namespace sslshim::adversarial
