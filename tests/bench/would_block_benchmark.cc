// would_block_benchmark: the cost of one would-block read on a non-blocking
// facade socket (what the event-driven server pays at least once per
// request), as the server sees it: recv_into returning SSLWantReadError and
// the caller asking GetErrorKind. Compared with raw SSL_read + SSL_get_error.
//
//   bazel run -c opt //tests/bench:would_block_benchmark

#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <memory>
#include <thread>

#include "benchmark/benchmark.h"
#include "openssl/ssl.h"
#include "shim/errors.h"
#include "shim/reader.h"
#include "shim/ssl_socket.h"
#include "shim/wrap_socket.h"
#include "tests/bench/bench_util.h"
#include "testing/cert_builder.h"

namespace sslshim::bench {
namespace {

// A connected pair: the facade server socket (non-blocking, handshake done)
// and the raw client that stays silent.
struct Pair {
  std::unique_ptr<shim::SSLSocket> server;
  bssl::UniquePtr<SSL_CTX> client_ctx;
  bssl::UniquePtr<SSL> client;
  int client_fd = -1;
  ~Pair() {
    client.reset();
    if (client_fd >= 0) close(client_fd);
  }
};

std::unique_ptr<Pair> MakePair() {
  static const testing::TestPki& pki =
      testing::SharedTestPki(testing::KeyType::kP256);
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) abort();
  auto p = std::make_unique<Pair>();
  p->client_fd = fds[1];
  p->client_ctx = RawClientCtx(pki, false);
  p->client.reset(SSL_new(p->client_ctx.get()));
  SSL_set_fd(p->client.get(), fds[1]);
  std::thread client([&] { SSL_connect(p->client.get()); });
  auto server = shim::wrap_socket(
      fds[0], {.keyfile = shim::StringIO(pki.server.KeyPem()),
               .certfile = shim::StringIO(pki.ServerChainPem()),
               .server_side = true});
  client.join();
  if (!server.ok() || !(*server)->setblocking(false).ok()) abort();
  p->server = *std::move(server);
  return p;
}

void BM_FacadeWouldBlockRead(benchmark::State& state) {
  std::unique_ptr<Pair> p = MakePair();
  char buf[4096];
  for (auto _ : state) {
    absl::StatusOr<size_t> n = p->server->recv_into(absl::MakeSpan(buf));
    if (n.ok() ||
        shim::GetErrorKind(n.status()) != shim::ErrorKind::kSSLWantReadError) {
      state.SkipWithError("expected SSLWantReadError");
      break;
    }
  }
}
BENCHMARK(BM_FacadeWouldBlockRead);

void BM_RawWouldBlockRead(benchmark::State& state) {
  std::unique_ptr<Pair> p = MakePair();
  SSL* ssl = p->server->native();
  char buf[4096];
  for (auto _ : state) {
    const int n = SSL_read(ssl, buf, sizeof(buf));
    if (n > 0 || SSL_get_error(ssl, n) != SSL_ERROR_WANT_READ) {
      state.SkipWithError("expected SSL_ERROR_WANT_READ");
      break;
    }
  }
}
BENCHMARK(BM_RawWouldBlockRead);

}  // namespace
}  // namespace sslshim::bench

BENCHMARK_MAIN();
