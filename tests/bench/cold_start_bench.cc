// cold_start_bench: issue-5 table row 8 — time from process start to the
// first verified TLS handshake, this project (cold_start_client: AppRuntime's
// create_default_context) vs CPython 3.11 (ssl.create_default_context()),
// both trusting the same bundle via SSL_CERT_FILE: Debian's
// ca-certificates.crt (~150 certificates) plus the test root. Each sample
// spawns a fresh process (pinned to CPU 1) and measures from just before
// spawning to its "ok" on a pipe; the server is a raw-BoringSSL thread on
// CPU 0. Subjects are interleaved; one untimed warm-up each.
//
//   bazel run -c opt //tests/bench:cold_start_bench -- --runs=5 --json=/tmp/c.json

#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "openssl/err.h"
#include "openssl/ssl.h"
#include "tests/bench/bench_util.h"
#include "testing/cert_builder.h"

extern char** environ;

namespace sslshim::bench {
namespace {

constexpr char kPython[] =
    "import socket, ssl, sys\n"
    "ctx = ssl.create_default_context()\n"
    "s = ctx.wrap_socket(socket.create_connection(('127.0.0.1', "
    "int(sys.argv[1]))), server_hostname='localhost')\n"
    "assert len(s.recv(1)) == 1\n"
    "sys.stdout.write('ok\\n')\n";

// TimeToOk spawns argv with SSL_CERT_FILE=bundle and returns the ms until it
// writes "ok" to stdout, or -1.
double TimeToOk(const std::vector<std::string>& argv, const std::string& bundle) {
  int out[2];
  if (pipe(out) != 0) return -1;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  posix_spawn_file_actions_addclose(&actions, out[0]);
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    if (strncmp(*e, "SSL_CERT_FILE=", 14) != 0) env_strings.push_back(*e);
  }
  env_strings.push_back("SSL_CERT_FILE=" + bundle);
  std::vector<char*> env, args;
  for (auto& s : env_strings) env.push_back(s.data());
  env.push_back(nullptr);
  std::vector<std::string> argv_copy = argv;
  for (auto& s : argv_copy) args.push_back(s.data());
  args.push_back(nullptr);
  const absl::Time t0 = absl::Now();
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, args[0], &actions, nullptr, args.data(),
                             env.data());
  posix_spawn_file_actions_destroy(&actions);
  close(out[1]);
  if (rc != 0) {
    close(out[0]);
    return -1;
  }
  char buf[8] = {0};
  const ssize_t n = read(out[0], buf, 3);
  const double ms = absl::ToDoubleMilliseconds(absl::Now() - t0);
  close(out[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (n != 3 || std::string(buf, 3) != "ok\n" || !WIFEXITED(status) ||
      WEXITSTATUS(status) != 0) {
    return -1;
  }
  return ms;
}

int Main(int argc, char** argv) {
  int runs = 5;
  std::string json_path;
  for (int i = 1; i < argc; ++i) {
    absl::string_view a = argv[i];
    if (absl::ConsumePrefix(&a, "--runs=")) {
      (void)absl::SimpleAtoi(a, &runs);
    } else if (absl::ConsumePrefix(&a, "--json=")) {
      json_path = std::string(a);
    } else {
      fprintf(stderr, "usage: %s [--runs=N] [--json=PATH]\n", argv[0]);
      return 2;
    }
  }
  const testing::TestPki pki = testing::TestPki::Make(testing::KeyType::kP256);
  char dir_template[] = "/tmp/cold_start_XXXXXX";
  if (mkdtemp(dir_template) == nullptr) return 1;
  const std::string dir = dir_template;
  std::ifstream system_bundle("/etc/ssl/certs/ca-certificates.crt");
  std::stringstream bundle_pem;
  bundle_pem << system_bundle.rdbuf() << pki.RootPem();
  const std::string bundle = dir + "/bundle.pem";
  WriteFile(bundle, bundle_pem.str());
  int certs = 0;
  for (size_t p = 0; (p = bundle_pem.str().find("BEGIN CERTIFICATE", p)) !=
                     std::string::npos;
       ++p) {
    ++certs;
  }

  int port = 0;
  const int listen_fd = ListenLoopback(&port);
  bssl::UniquePtr<SSL_CTX> server_ctx = RawServerCtx(pki, false);
  std::atomic<bool> stop{false};
  std::thread server([&] {
    PinThisThread(0);
    while (!stop.load()) {
      const int fd = accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;
      bssl::UniquePtr<SSL> ssl(SSL_new(server_ctx.get()));
      SSL_set_fd(ssl.get(), fd);
      if (SSL_accept(ssl.get()) == 1) SSL_write(ssl.get(), "x", 1);
      ERR_clear_error();
      ssl.reset();
      close(fd);
    }
  });
  PinThisThread(1);  // Inherited by the spawned clients.

  const std::string self = std::filesystem::read_symlink("/proc/self/exe");
  const std::string client =
      std::filesystem::path(self).parent_path() / "cold_start_client";
  const std::vector<std::string> cpp = {client, std::to_string(port)};
  const std::vector<std::string> py = {"/usr/bin/python3", "-c", kPython,
                                       std::to_string(port)};
  Comparison c;
  c.id = "8";
  c.figure = absl::StrCat(
      "first verified handshake after process start (ms), bundle of ", certs,
      " certificates");
  c.unit = "ms";
  c.subject = "sslshim (AppRuntime create_default_context)";
  c.baseline = "CPython 3.11 ssl.create_default_context()";
  int failures = 0;
  for (int r = -1; r < runs; ++r) {
    const double a = TimeToOk(cpp, bundle);
    const double b = TimeToOk(py, bundle);
    if (a < 0 || b < 0) ++failures;
    if (r < 0) continue;
    c.subject_rate.push_back(a);
    c.baseline_rate.push_back(b);
    fprintf(stderr, "  run %d: sslshim %.1f ms, CPython %.1f ms\n", r, a, b);
  }
  stop = true;
  const int wake = ConnectLoopback(port);
  if (wake >= 0) close(wake);
  server.join();
  close(listen_fd);
  std::filesystem::remove_all(dir);

  const double subj = Summarize(c.subject_rate).median;
  const double base = Summarize(c.baseline_rate).median;
  c.ratio = base > 0 ? subj / base : 0;
  c.ratio_basis = "subject time / baseline time (medians, wall clock)";
  c.target = "<= 0.5";
  c.met = failures == 0 && c.ratio > 0 && c.ratio <= 0.5;
  if (failures > 0) c.note = absl::StrCat(failures, " failed starts");
  const std::string json = absl::StrCat("[", ToJson(c), "]\n");
  if (!json_path.empty() && !WriteFile(json_path, json)) return 1;
  printf("%s", json.c_str());
  return 0;
}

}  // namespace
}  // namespace sslshim::bench

int main(int argc, char** argv) { return sslshim::bench::Main(argc, argv); }
