// cold_start_client: the C++ side of issue-5 row 8 (run by cold_start_bench):
// a fresh process that builds Python's ssl.create_default_context() through
// the runtime (AppRuntime, CA bundle from SSL_CERT_FILE), connects to
// 127.0.0.1:<port>, completes a verified handshake for "localhost", reads
// one byte and prints "ok". Exit 1 (with the error on stderr) otherwise.
//
//   SSL_CERT_FILE=bundle.pem cold_start_client 4433

#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "runtime/defaults.h"
#include "shim/reader.h"
#include "shim/ssl_socket.h"
#include "tests/bench/bench_util.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s PORT\n", argv[0]);
    return 2;
  }
  auto rt = sslshim::runtime::AppRuntime::Create(
      sslshim::shim::StringIO("libraries:\n- name: ssl\n  version: latest\n"));
  if (!rt.ok()) {
    fprintf(stderr, "%s\n", rt.status().ToString().c_str());
    return 1;
  }
  auto ctx = (*rt)->create_default_context();
  if (!ctx.ok()) {
    fprintf(stderr, "%s\n", ctx.status().ToString().c_str());
    return 1;
  }
  const int fd = sslshim::bench::ConnectLoopback(atoi(argv[1]));
  auto sock = (*ctx)->wrap_socket(fd, {.server_hostname = "localhost"});
  if (!sock.ok()) {
    fprintf(stderr, "%s\n", sock.status().ToString().c_str());
    return 1;
  }
  auto byte = (*sock)->read(1);
  if (!byte.ok() || byte->size() != 1) {
    fprintf(stderr, "no byte from the server\n");
    return 1;
  }
  fputs("ok\n", stdout);
  return 0;
}
