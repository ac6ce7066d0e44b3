// tls_test_util.h (testonly): runs one TLS connection between two facade
// sockets over real loopback TCP, server in a thread, with timeouts so a
// failing case can never hang the suite.

#ifndef SSLSHIM_SHIM_TLS_TEST_UTIL_H_
#define SSLSHIM_SHIM_TLS_TEST_UTIL_H_

#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "shim/ssl.h"
#include "testing/cert_builder.h"
#include "testing/socket_pair.h"

namespace sslshim::shim::test {

using SocketBody = std::function<absl::Status(SSLSocket&)>;

// TlsRun holds each side's first failure (handshake or body).
struct TlsRun {
  absl::Status server;
  absl::Status client;
};

inline absl::Status EchoOnce(SSLSocket& s) {
  absl::StatusOr<std::string> got = s.recv(65536);
  if (!got.ok()) return got.status();
  return s.sendall(*got);
}

inline SocketBody PingExpectEcho(std::string payload = "ping") {
  return [payload](SSLSocket& s) -> absl::Status {
    absl::Status st = s.sendall(payload);
    if (!st.ok()) return st;
    std::string got;
    while (got.size() < payload.size()) {
      absl::StatusOr<std::string> r = s.recv(65536);
      if (!r.ok()) return r.status();
      if (r->empty()) return absl::DataLossError("early EOF");
      got += *r;
    }
    if (got != payload) return absl::DataLossError("echo mismatch");
    return absl::OkStatus();
  };
}

// RunTls connects a client (client_ctx + client_opts) to a server
// (server_ctx) and runs each body after its handshake. Each side has a
// 10-second timeout on every operation.
inline TlsRun RunTls(const std::shared_ptr<SSLContext>& server_ctx,
                     const std::shared_ptr<SSLContext>& client_ctx,
                     WrapOptions client_opts, SocketBody server_body,
                     SocketBody client_body) {
  TlsRun run;
  absl::StatusOr<sslshim::testing::TcpPair> pair = sslshim::testing::MakeTcpPair();
  if (!pair.ok()) {
    run.server = run.client = pair.status();
    return run;
  }
  auto side = [](const std::shared_ptr<SSLContext>& ctx, int fd,
                 WrapOptions opts, const SocketBody& body) -> absl::Status {
    opts.do_handshake_on_connect = false;
    absl::StatusOr<std::unique_ptr<SSLSocket>> s = ctx->wrap_socket(fd, opts);
    if (!s.ok()) return s.status();
    absl::Status st = (*s)->settimeout(absl::Seconds(10));
    if (st.ok()) st = (*s)->do_handshake();
    if (st.ok() && body) st = body(**s);
    return st;
  };
  std::thread server([&] {
    run.server = side(server_ctx, pair->server, {.server_side = true}, server_body);
  });
  client_opts.server_side = false;
  run.client = side(client_ctx, pair->client, client_opts, client_body);
  server.join();
  return run;
}

// ServerContext: PROTOCOL_TLS_SERVER with the PKI's server chain and key.
inline std::shared_ptr<SSLContext> ServerContext(const sslshim::testing::TestPki& pki) {
  auto ctx = SSLContext::Create(PROTOCOL_TLS_SERVER);
  if (!ctx.ok()) return nullptr;
  if (!(*ctx)->load_cert_chain(StringIO(pki.ServerChainPem()),
                               StringIO(pki.server.KeyPem())).ok()) {
    return nullptr;
  }
  return *ctx;
}

// ClientContext: PROTOCOL_TLS_CLIENT trusting the PKI's root.
inline std::shared_ptr<SSLContext> ClientContext(const sslshim::testing::TestPki& pki) {
  auto ctx = SSLContext::Create(PROTOCOL_TLS_CLIENT);
  if (!ctx.ok()) return nullptr;
  if (!(*ctx)->load_verify_locations({.cadata = pki.RootPem()}).ok()) return nullptr;
  return *ctx;
}

}  // namespace sslshim::shim::test

#endif  // SSLSHIM_SHIM_TLS_TEST_UTIL_H_
