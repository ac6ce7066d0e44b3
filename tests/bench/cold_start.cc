// cold_start: process start -> first verified client handshake, with a
// 140-certificate default CA bundle, for the facade (a fresh process running
// AppRuntime::create_default_context() with SSL_CERT_FILE at the bundle,
// connect, verified handshake) vs CPython 3.11
// (`ssl.create_default_context(cafile=bundle)` + handshake), against the same
// in-process TLS server. Both are launched the same way (posix_spawn) and
// timed from spawn to exit by this parent. Prints one JSON line and a
// Markdown row.
//
//   bazel run -c opt //tests/bench:cold_start -- --runs=15 [--cas=140]
//
// Child mode (used by the parent): cold_start --child PORT APP_YAML

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "runtime/defaults.h"
#include "runtime/net.h"
#include "shim/ssl.h"
#include "testing/cert_builder.h"

extern char** environ;

namespace sslshim::bench {
namespace {

using sslshim::testing::CertSpec;
using sslshim::testing::Issue;
using sslshim::testing::Issued;
using sslshim::testing::KeyType;

// Child: the measured program. Exit 0 only after a verified handshake.
int Child(int port, const char* app_yaml) {
  absl::StatusOr<std::shared_ptr<runtime::AppRuntime>> rt =
      runtime::AppRuntime::Create(std::string(app_yaml));
  if (!rt.ok()) {
    fprintf(stderr, "child: %s\n", rt.status().ToString().c_str());
    return 2;
  }
  absl::StatusOr<std::shared_ptr<shim::SSLContext>> ctx = (*rt)->create_default_context();
  if (!ctx.ok()) {
    fprintf(stderr, "child: %s\n", ctx.status().ToString().c_str());
    return 2;
  }
  absl::StatusOr<int> fd = runtime::ConnectTcp("127.0.0.1", port, absl::Seconds(5));
  if (!fd.ok()) {
    fprintf(stderr, "child: %s\n", fd.status().ToString().c_str());
    return 2;
  }
  absl::StatusOr<std::unique_ptr<shim::SSLSocket>> s =
      (*ctx)->wrap_socket(*fd, {.server_hostname = "localhost"});
  if (!s.ok()) {
    fprintf(stderr, "child: %s\n", s.status().ToString().c_str());
    return 1;
  }
  return (*ctx)->verify_mode() == shim::CERT_REQUIRED ? 0 : 3;
}

std::string WriteFile(const std::string& path, const std::string& data) {
  std::ofstream(path, std::ios::binary) << data;
  return path;
}

// Spawn runs argv with `env` and returns wall seconds to exit, or -1.
double Spawn(const std::vector<std::string>& argv, const std::vector<std::string>& env) {
  std::vector<char*> a, e;
  for (const auto& s : argv) a.push_back(const_cast<char*>(s.c_str()));
  a.push_back(nullptr);
  for (const auto& s : env) e.push_back(const_cast<char*>(s.c_str()));
  e.push_back(nullptr);
  const absl::Time t0 = absl::Now();
  pid_t pid;
  if (posix_spawn(&pid, a[0], nullptr, nullptr, a.data(), e.data()) != 0) return -1;
  int status = 0;
  waitpid(pid, &status, 0);
  const double secs = absl::ToDoubleSeconds(absl::Now() - t0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    fprintf(stderr, "%s failed (status %d)\n", argv[0].c_str(), status);
    return -1;
  }
  return secs;
}

struct Stat {
  double min = 0, median = 0;
};
Stat Summarize(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return {v.front(), v[v.size() / 2]};
}

int Parent(int runs, int cas) {
  char tmpl[] = "/tmp/cold_start.XXXXXX";
  const std::string dir = mkdtemp(tmpl);
  // The bundle: `cas` self-signed P-256 roots; the server's issuer sits in
  // the middle, so a lookup cannot win by finding it first.
  std::vector<Issued> roots;
  std::string bundle;
  for (int i = 0; i < cas; ++i) {
    roots.push_back(Issue({.common_name = absl::StrCat("Cold Start Root ", i),
                           .subject = {{"O", "sslshim bench"}},
                           .is_ca = true},
                          KeyType::kP256, nullptr));
    bundle += roots.back().CertPem();
  }
  const Issued& issuer = roots[cas / 2];
  Issued leaf = Issue({.common_name = "localhost", .dns_names = {"localhost"}},
                      KeyType::kP256, &issuer);
  const std::string bundle_path = WriteFile(dir + "/bundle.pem", bundle);
  const std::string yaml = WriteFile(dir + "/app.yaml",
                                     "libraries:\n- name: ssl\n  version: latest\n");

  auto ctx = shim::SSLContext::Create(shim::PROTOCOL_TLS_SERVER);
  if (!ctx.ok() || !(*ctx)->load_cert_chain(shim::StringIO(leaf.CertPem()),
                                            shim::StringIO(leaf.KeyPem())).ok()) {
    fprintf(stderr, "server context failed\n");
    return 2;
  }
  absl::StatusOr<runtime::TcpListener> listener = runtime::TcpListener::Listen("127.0.0.1", 0);
  if (!listener.ok()) {
    fprintf(stderr, "%s\n", listener.status().ToString().c_str());
    return 2;
  }
  const int port = listener->port();
  std::atomic<bool> stop{false};
  std::atomic<int> handshakes{0};
  std::thread server([&] {
    while (!stop.load()) {
      absl::StatusOr<int> fd = listener->Accept(absl::Seconds(1));
      if (!fd.ok()) continue;
      auto s = (*ctx)->wrap_socket(*fd, {.server_side = true, .do_handshake_on_connect = false});
      if (!s.ok()) continue;
      (void)(*s)->settimeout(absl::Seconds(5));
      if ((*s)->do_handshake().ok()) ++handshakes;
      (void)(*s)->recv(1);  // Until the client goes away.
    }
  });

  const std::string self = "/proc/self/exe";
  char exe[4096] = {0};
  if (readlink(self.c_str(), exe, sizeof(exe) - 1) < 0) return 2;
  const std::vector<std::string> env = {absl::StrCat("SSL_CERT_FILE=", bundle_path),
                                        "PATH=/usr/bin:/bin"};
  const char* py =
      "import socket, ssl, sys\n"
      "ctx = ssl.create_default_context(cafile=sys.argv[2])\n"
      "s = ctx.wrap_socket(socket.create_connection(('127.0.0.1', int(sys.argv[1]))),"
      " server_hostname='localhost')\n"
      "assert ctx.verify_mode == ssl.CERT_REQUIRED\n";
  std::vector<double> facade, python, python_bare, facade_bare;
  for (int i = 0; i < runs; ++i) {
    facade.push_back(Spawn({exe, "--child", absl::StrCat(port), yaml}, env));
    python.push_back(Spawn({"/usr/bin/python3", "-c", py, absl::StrCat(port), bundle_path}, env));
    python_bare.push_back(Spawn({"/usr/bin/python3", "-c", "pass"}, env));
    facade_bare.push_back(Spawn({exe, "--noop"}, env));
  }
  stop = true;
  server.join();
  for (const auto* v : {&facade, &python, &python_bare, &facade_bare}) {
    if (std::count(v->begin(), v->end(), -1.0) > 0) return 1;
  }
  const Stat f = Summarize(facade), p = Summarize(python), pb = Summarize(python_bare),
             fb = Summarize(facade_bare);
  printf(
      "{\"figure\":\"first verified handshake after process start\",\"cas\":%d,"
      "\"runs\":%d,\"facade_ms\":{\"min\":%.2f,\"median\":%.2f},"
      "\"cpython_ms\":{\"min\":%.2f,\"median\":%.2f},"
      "\"ratio_median\":%.3f,\"ratio_min\":%.3f,"
      "\"facade_process_noop_ms\":%.2f,\"cpython_interpreter_noop_ms\":%.2f,"
      "\"server_handshakes\":%d}\n",
      cas, runs, f.min * 1e3, f.median * 1e3, p.min * 1e3, p.median * 1e3,
      f.median / p.median, f.min / p.min, fb.median * 1e3, pb.median * 1e3,
      handshakes.load());
  printf("| first verified handshake after process start (%d CAs) | facade %.1f ms "
         "vs CPython %.1f ms (median of %d) | %.2fx | <= 0.5x |\n",
         cas, f.median * 1e3, p.median * 1e3, runs, f.median / p.median);
  std::string cleanup = "rm -rf " + dir;
  (void)!system(cleanup.c_str());
  return handshakes.load() == 2 * runs ? 0 : 1;
}

}  // namespace
}  // namespace sslshim::bench

int main(int argc, char** argv) {
  if (argc >= 2 && std::strcmp(argv[1], "--noop") == 0) return 0;
  if (argc == 4 && std::strcmp(argv[1], "--child") == 0) {
    int port = 0;
    if (!absl::SimpleAtoi(argv[2], &port)) return 2;
    return sslshim::bench::Child(port, argv[3]);
  }
  int runs = 15, cas = 140;
  for (int i = 1; i < argc; ++i) {
    if (absl::StartsWith(argv[i], "--runs=")) (void)absl::SimpleAtoi(argv[i] + 7, &runs);
    if (absl::StartsWith(argv[i], "--cas=")) (void)absl::SimpleAtoi(argv[i] + 6, &cas);
  }
  if (runs < 1 || cas < 1) return 2;
  return sslshim::bench::Parent(runs, cas);
}
