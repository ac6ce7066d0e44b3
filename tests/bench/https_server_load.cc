// https_server_load: a first throughput figure for runtime/https_server.
//
//   bazel run -c opt //tests/bench:https_server_load -- --seconds=3
//
// Starts an HttpsServer (one event loop, fixed P-256 context, 6-byte body) in
// a forked child, then drives it from this process with a load generator on
// raw BoringSSL (no facade): `new` mode opens a new TCP connection and does a
// full TLS 1.3 handshake for every request (no session cache, no tickets
// offered back: every handshake is full); `keepalive` mode reuses one
// connection per client thread. Prints requests/s and the server process's
// CPU time per request (from /proc/<pid>/stat), since on a 2-core machine
// the load generator usually saturates first.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/strip.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "openssl/bio.h"
#include "openssl/err.h"
#include "openssl/pem.h"
#include "openssl/ssl.h"
#include "runtime/context_provider.h"
#include "runtime/https_server.h"
#include "runtime/termination_signal.h"
#include "shim/reader.h"
#include "shim/wrap_socket.h"
#include "tests/bench/bench_util.h"
#include "testing/cert_builder.h"

namespace {

using sslshim::testing::KeyType;
using sslshim::testing::TestPki;

struct Flags {
  double seconds = 3;
  int clients = 2;
  bool mutual = false;
};

Flags ParseFlags(int argc, char** argv) {
  Flags f;
  for (int i = 1; i < argc; ++i) {
    absl::string_view a = argv[i];
    if (absl::ConsumePrefix(&a, "--seconds=")) {
      (void)absl::SimpleAtod(a, &f.seconds);
    } else if (absl::ConsumePrefix(&a, "--clients=")) {
      (void)absl::SimpleAtoi(a, &f.clients);
    } else if (a == "--mutual") {
      f.mutual = true;
    } else {
      fprintf(stderr, "usage: %s [--seconds=S] [--clients=N] [--mutual]\n",
              argv[0]);
      exit(2);
    }
  }
  return f;
}

// RunServerChild runs the server in this (child) process until SIGTERM.
void RunServerChild(const TestPki& pki, bool mutual, int port_pipe) {
  if (!sslshim::runtime::BlockTerminationSignals().ok()) _exit(3);
  sslshim::shim::WrapSocketArgs args{
      .keyfile = sslshim::shim::StringIO(pki.server.KeyPem()),
      .certfile = sslshim::shim::StringIO(pki.ServerChainPem()),
      .server_side = true};
  if (mutual) {
    args.cert_reqs = sslshim::shim::CERT_REQUIRED;
    args.ca_certs = sslshim::shim::StringIO(pki.RootPem());
  }
  auto ctx = sslshim::shim::MakeWrapContext(args);
  if (!ctx.ok()) _exit(4);
  sslshim::runtime::HttpsServerOptions options;
  options.threads = 1;
  auto server = sslshim::runtime::HttpsServer::Start(
      options, sslshim::runtime::FixedContextProvider(*ctx),
      [](const sslshim::runtime::HttpRequest&)
          -> absl::StatusOr<sslshim::runtime::HttpResponse> {
        return sslshim::runtime::HttpResponse{.body = "hello\n"};
      });
  if (!server.ok()) _exit(5);
  const int port = (*server)->port();
  if (write(port_pipe, &port, sizeof(port)) != sizeof(port)) _exit(6);
  close(port_pipe);
  (void)sslshim::runtime::WaitForTerminationSignal();
  (*server)->Shutdown(absl::Seconds(1));
  _exit(0);
}

// Exchange sends one GET and reads the whole response (headers + 6 bytes).
bool Exchange(SSL* ssl, bool close_after) {
  const std::string req = absl::StrCat(
      "GET / HTTP/1.1\r\nHost: localhost\r\n",
      close_after ? "Connection: close\r\n" : "", "\r\n");
  if (SSL_write(ssl, req.data(), req.size()) != static_cast<int>(req.size())) {
    return false;
  }
  std::string got;
  char buf[4096];
  for (;;) {
    const size_t end = got.find("\r\n\r\n");
    if (end != std::string::npos && got.size() >= end + 4 + 6) return true;
    const int n = SSL_read(ssl, buf, sizeof(buf));
    if (n <= 0) return false;
    got.append(buf, n);
  }
}

struct Result {
  uint64_t requests = 0;
  uint64_t errors = 0;
};

Result RunLoad(SSL_CTX* ctx, int port, bool keep_alive, const Flags& flags) {
  std::atomic<uint64_t> requests{0}, errors{0};
  const absl::Time end = absl::Now() + absl::Seconds(flags.seconds);
  std::vector<std::thread> threads;
  for (int t = 0; t < flags.clients; ++t) {
    threads.emplace_back([&] {
      bssl::UniquePtr<SSL> ssl;
      int fd = -1;
      while (absl::Now() < end) {
        if (ssl == nullptr) {
          fd = sslshim::bench::ConnectLoopback(port);
          ssl.reset(SSL_new(ctx));
          SSL_set_fd(ssl.get(), fd);
          if (fd < 0 || SSL_connect(ssl.get()) != 1) {
            ++errors;
            ERR_clear_error();
            ssl.reset();
            if (fd >= 0) close(fd);
            continue;
          }
        }
        if (Exchange(ssl.get(), !keep_alive)) {
          ++requests;
        } else {
          ++errors;
          ERR_clear_error();
        }
        if (!keep_alive) {
          ssl.reset();
          close(fd);
        }
      }
      if (ssl != nullptr) {
        ssl.reset();
        close(fd);
      }
    });
  }
  for (auto& t : threads) t.join();
  return Result{requests.load(), errors.load()};
}

}  // namespace

int main(int argc, char** argv) {
  const Flags flags = ParseFlags(argc, argv);
  signal(SIGPIPE, SIG_IGN);
  const TestPki pki = TestPki::Make(KeyType::kP256);
  int pipe_fds[2];
  if (pipe(pipe_fds) != 0) return 1;
  const pid_t child = fork();
  if (child == 0) {
    close(pipe_fds[0]);
    RunServerChild(pki, flags.mutual, pipe_fds[1]);
  }
  close(pipe_fds[1]);
  int port = 0;
  if (read(pipe_fds[0], &port, sizeof(port)) != sizeof(port)) {
    fprintf(stderr, "server did not start\n");
    return 1;
  }
  close(pipe_fds[0]);
  bssl::UniquePtr<SSL_CTX> ctx = sslshim::bench::RawClientCtx(pki, flags.mutual);
  printf("| mode | TLS | clients | requests/s | server CPU µs/request | errors |\n");
  printf("|---|---|---|---|---|---|\n");
  std::string json = "[";
  for (bool keep_alive : {false, true}) {
    const double cpu0 = sslshim::bench::ProcessCpuSeconds(child);
    const absl::Time t0 = absl::Now();
    const Result r = RunLoad(ctx.get(), port, keep_alive, flags);
    const double secs = absl::ToDoubleSeconds(absl::Now() - t0);
    const double cpu1 = sslshim::bench::ProcessCpuSeconds(child);
    const double cpu_us =
        r.requests == 0 ? 0 : (cpu1 - cpu0) * 1e6 / r.requests;
    const char* mode = keep_alive ? "keep-alive" : "new connection + full handshake";
    const char* tls = flags.mutual ? "1.3 mutual" : "1.3 one-way";
    printf("| %s | %s | %d | %.0f | %.1f | %llu |\n", mode, tls, flags.clients,
           r.requests / secs, cpu_us,
           static_cast<unsigned long long>(r.errors));
    absl::StrAppendFormat(&json,
                          "%s{\"mode\":\"%s\",\"tls\":\"%s\",\"clients\":%d,"
                          "\"requests_per_s\":%.0f,\"server_cpu_us_per_request\":"
                          "%.1f,\"errors\":%llu}",
                          keep_alive ? "," : "", keep_alive ? "keep-alive" : "new",
                          tls, flags.clients, r.requests / secs, cpu_us,
                          static_cast<unsigned long long>(r.errors));
  }
  printf("%s]\n", json.c_str());
  kill(child, SIGTERM);
  int status = 0;
  waitpid(child, &status, 0);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
