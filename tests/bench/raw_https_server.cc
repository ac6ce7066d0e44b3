#include "tests/bench/raw_https_server.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "openssl/err.h"

namespace sslshim::bench {
namespace {

// ServeConnection answers GET requests on `fd` until the client closes or
// asks to (Connection: close).
void ServeConnection(int fd, SSL_CTX* ctx, const std::string& body) {
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  bssl::UniquePtr<SSL> ssl(SSL_new(ctx));
  SSL_set_fd(ssl.get(), fd);
  if (SSL_accept(ssl.get()) != 1) return;
  std::string in;
  char buf[16 << 10];
  char date[64];
  for (;;) {
    size_t end;
    while ((end = in.find("\r\n\r\n")) == std::string::npos) {
      const int n = SSL_read(ssl.get(), buf, sizeof(buf));
      if (n <= 0) return;
      in.append(buf, n);
    }
    const bool close_after = absl::StrContains(
        absl::AsciiStrToLower(absl::string_view(in.data(), end)),
        "connection: close");
    in.erase(0, end + 4);
    const time_t now = time(nullptr);
    tm gmt;
    gmtime_r(&now, &gmt);
    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &gmt);
    const std::string response = absl::StrCat(
        "HTTP/1.1 200 OK\r\nDate: ", date,
        "\r\nContent-Type: text/plain\r\nContent-Length: ", body.size(),
        close_after ? "\r\nConnection: close" : "", "\r\n\r\n", body);
    if (SSL_write(ssl.get(), response.data(), response.size()) !=
        static_cast<int>(response.size())) {
      return;
    }
    if (close_after) {
      SSL_shutdown(ssl.get());
      return;
    }
  }
}

}  // namespace

void RunRawHttpsServer(int listen_fd, SSL_CTX* ctx, const std::string& body,
                       int threads) {
  std::vector<std::thread> pool;
  for (int i = 0; i < threads; ++i) {
    pool.emplace_back([=, &body] {
      for (;;) {
        const int fd = accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd < 0) continue;
        ServeConnection(fd, ctx, body);
        ERR_clear_error();
        close(fd);
      }
    });
  }
  for (std::thread& t : pool) t.join();
  _exit(0);
}

}  // namespace sslshim::bench
