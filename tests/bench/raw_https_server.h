// raw_https_server.h
// -----------------------------------------------------------------------------
// RunRawHttpsServer: the baseline HTTPS server of the issue-5 table, written
// on raw BoringSSL with blocking sockets and no facade. A fixed pool of
// threads each loops accept -> SSL_accept -> serve HTTP/1.1 requests on that
// connection (keep-alive unless the request says "Connection: close") ->
// close. Every response is 200 with `body`. Request bodies are not
// supported (GET only): it exists to be measured, not to serve the world.
//
//   bssl::UniquePtr<SSL_CTX> ctx = RawServerCtx(pki, /*mutual=*/false);
//   RunRawHttpsServer(listen_fd, ctx.get(), "hello\n", 64);  // never returns

#ifndef SSLSHIM_TESTS_BENCH_RAW_HTTPS_SERVER_H_
#define SSLSHIM_TESTS_BENCH_RAW_HTTPS_SERVER_H_

#include <string>

#include "openssl/ssl.h"

namespace sslshim::bench {

// RunRawHttpsServer serves `listen_fd` (blocking, listening) with `threads`
// threads until the process exits. `ctx` must outlive the process.
[[noreturn]] void RunRawHttpsServer(int listen_fd, SSL_CTX* ctx,
                                    const std::string& body, int threads);

}  // namespace sslshim::bench

#endif  // SSLSHIM_TESTS_BENCH_RAW_HTTPS_SERVER_H_
