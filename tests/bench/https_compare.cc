// https_compare: issue-5 table rows 5, 6 and 9 — the runtime's HttpsServer
// against a minimal raw-BoringSSL blocking server (raw_https_server.h) and
// nginx (Debian's, one worker), side by side in one run (tools/bench.sh):
//
//   bazel run -c opt //tests/bench:https_compare -- --runs=3 --json=/tmp/h.json
//
// Each server runs in its own process pinned to CPU 0; the load generator
// (this process, raw BoringSSL, no facade, no session reuse) runs its client
// threads pinned to CPU 1. Same PKI (ECDSA P-256), same 6-byte body, same
// requests. Modes:
//   new        a new TCP connection + full TLS 1.3 handshake per request
//              (one-way and mutual), "Connection: close".
//   keepalive  one connection per client thread, requests back to back.
//   idle       --idle_connections TLS connections opened (handshake done) and
//              left idle; the server's RSS growth per connection is reported.
// The figure judged is the server process's CPU time per request (from
// /proc/<pid>/stat, all threads), i.e. requests/s per server core; the
// achieved rate is printed too. Servers are measured interleaved.

#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "openssl/err.h"
#include "openssl/ssl.h"
#include "runtime/context_provider.h"
#include "runtime/https_server.h"
#include "runtime/termination_signal.h"
#include "shim/reader.h"
#include "shim/wrap_socket.h"
#include "tests/bench/bench_util.h"
#include "tests/bench/raw_https_server.h"
#include "testing/cert_builder.h"

namespace sslshim::bench {
namespace {

using testing::KeyType;
using testing::TestPki;

constexpr char kBody[] = "hello\n";

struct Flags {
  int runs = 3;
  double seconds = 2;
  int clients = 2;
  int idle_connections = 10000;
  std::string nginx = "/usr/sbin/nginx";
  std::string json;
  // Instruction-count mode (tools/bench_instructions.py runs this under
  // callgrind): one client sends exactly `requests` requests of mode
  // `ir_mode` (new-one-way|new-mutual|keepalive) to the HttpsServer and to
  // the raw server, and prints each server's pid and request count.
  std::string ir_mode;
  int requests = 200;
};

Flags ParseFlags(int argc, char** argv) {
  Flags f;
  for (int i = 1; i < argc; ++i) {
    absl::string_view a = argv[i];
    if (absl::ConsumePrefix(&a, "--runs=")) {
      (void)absl::SimpleAtoi(a, &f.runs);
    } else if (absl::ConsumePrefix(&a, "--seconds=")) {
      (void)absl::SimpleAtod(a, &f.seconds);
    } else if (absl::ConsumePrefix(&a, "--clients=")) {
      (void)absl::SimpleAtoi(a, &f.clients);
    } else if (absl::ConsumePrefix(&a, "--idle_connections=")) {
      (void)absl::SimpleAtoi(a, &f.idle_connections);
    } else if (absl::ConsumePrefix(&a, "--nginx=")) {
      f.nginx = std::string(a);
    } else if (absl::ConsumePrefix(&a, "--json=")) {
      f.json = std::string(a);
    } else if (absl::ConsumePrefix(&a, "--ir_mode=")) {
      f.ir_mode = std::string(a);
    } else if (absl::ConsumePrefix(&a, "--requests=")) {
      (void)absl::SimpleAtoi(a, &f.requests);
    } else {
      fprintf(stderr,
              "usage: %s [--runs=N] [--seconds=S] [--clients=N] "
              "[--idle_connections=N] [--nginx=PATH] [--json=PATH] "
              "[--ir_mode=M --requests=N]\n",
              argv[0]);
      exit(2);
    }
  }
  return f;
}

// A server under test: a child process listening on `port`.
struct Server {
  std::string name;
  pid_t pid = -1;
  int port = 0;
};

void PinProcessToCpu0() {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(0, &set);
  sched_setaffinity(0, sizeof(set), &set);
}

// WaitListening polls until a TCP connect to `port` succeeds (10 s).
bool WaitListening(int port) {
  for (int i = 0; i < 1000; ++i) {
    const int fd = ConnectLoopback(port);
    if (fd >= 0) {
      close(fd);
      return true;
    }
    usleep(10000);
  }
  return false;
}

Server StartFacade(const TestPki& pki, bool mutual, int max_connections) {
  int port = 0;
  const int probe = ListenLoopback(&port);  // Reserve a free port number.
  close(probe);
  const pid_t pid = fork();
  if (pid == 0) {
    PinProcessToCpu0();
    if (!runtime::BlockTerminationSignals().ok()) _exit(3);
    shim::WrapSocketArgs args{.keyfile = shim::StringIO(pki.server.KeyPem()),
                              .certfile = shim::StringIO(pki.ServerChainPem()),
                              .server_side = true};
    if (mutual) {
      args.cert_reqs = shim::CERT_REQUIRED;
      args.ca_certs = shim::StringIO(pki.RootPem());
    }
    auto ctx = shim::MakeWrapContext(args);
    if (!ctx.ok()) _exit(4);
    runtime::HttpsServerOptions options;
    options.port = port;
    options.threads = 1;
    options.max_connections = max_connections;
    options.idle_timeout = absl::Seconds(600);
    auto server = runtime::HttpsServer::Start(
        options, runtime::FixedContextProvider(*ctx),
        [](const runtime::HttpRequest&)
            -> absl::StatusOr<runtime::HttpResponse> {
          return runtime::HttpResponse{.body = kBody};
        });
    if (!server.ok()) _exit(5);
    (void)runtime::WaitForTerminationSignal();
    (*server)->Shutdown(absl::ZeroDuration());
    _exit(0);
  }
  return Server{"HttpsServer (facade)", pid, port};
}

Server StartRaw(const TestPki& pki, bool mutual, int threads) {
  int port = 0;
  const int listen_fd = ListenLoopback(&port);
  const pid_t pid = fork();
  if (pid == 0) {
    PinProcessToCpu0();
    bssl::UniquePtr<SSL_CTX> ctx = RawServerCtx(pki, mutual);
    RunRawHttpsServer(listen_fd, ctx.release(), kBody, threads);
  }
  close(listen_fd);
  return Server{"raw BoringSSL blocking server", pid, port};
}

// StartNginx writes a config for one worker (master_process off, so the
// process we start is the one serving) into `dir` and execs nginx.
Server StartNginx(const Flags& flags, const std::string& dir, bool mutual) {
  int port = 0;
  const int probe = ListenLoopback(&port);
  close(probe);
  const std::string conf = absl::StrCat(
      "daemon off;\nmaster_process off;\nworker_processes 1;\n"
      "worker_rlimit_nofile 20000;\n"
      "error_log ", dir, "/error.log;\npid ", dir, "/nginx-", port, ".pid;\n",
      "events { worker_connections 19000; }\n"
      "http {\n  access_log off;\n"
      "  client_body_temp_path ", dir, "/body;\n  proxy_temp_path ", dir,
      "/proxy;\n  fastcgi_temp_path ", dir, "/fastcgi;\n  uwsgi_temp_path ",
      dir, "/uwsgi;\n  scgi_temp_path ", dir, "/scgi;\n",
      "  keepalive_requests 100000000;\n  keepalive_timeout 600s;\n"
      "  client_header_timeout 600s;\n"
      "  server {\n    listen 127.0.0.1:", port, " ssl;\n",
      "    ssl_certificate ", dir, "/chain.pem;\n",
      "    ssl_certificate_key ", dir, "/key.pem;\n",
      "    ssl_protocols TLSv1.2 TLSv1.3;\n",
      "    ssl_session_tickets off;\n    ssl_session_cache off;\n",
      mutual ? absl::StrCat("    ssl_verify_client on;\n    ssl_verify_depth 3;\n"
                            "    ssl_client_certificate ", dir, "/root.pem;\n")
             : "",
      "    location / { default_type text/plain; return 200 \"hello\\n\"; }\n"
      "  }\n}\n");
  const std::string conf_path =
      absl::StrCat(dir, "/nginx-", mutual ? "mutual" : "oneway", ".conf");
  if (!WriteFile(conf_path, conf)) return {};
  const pid_t pid = fork();
  if (pid == 0) {
    PinProcessToCpu0();
    execl(flags.nginx.c_str(), "nginx", "-e", (dir + "/error.log").c_str(),
          "-c", conf_path.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  return Server{"nginx (1 worker)", pid, port};
}

void Stop(Server& s) {
  if (s.pid <= 0) return;
  kill(s.pid, SIGTERM);
  int status = 0;
  for (int i = 0; i < 6000; ++i) {  // 60 s: slow under valgrind.
    if (waitpid(s.pid, &status, WNOHANG) == s.pid) {
      s.pid = -1;
      return;
    }
    usleep(10000);
  }
  kill(s.pid, SIGKILL);
  waitpid(s.pid, &status, 0);
  s.pid = -1;
}

// Exchange sends one GET and reads the whole response (Content-Length body).
bool Exchange(SSL* ssl, bool close_after) {
  const std::string req = absl::StrCat(
      "GET / HTTP/1.1\r\nHost: localhost\r\n",
      close_after ? "Connection: close\r\n" : "", "\r\n");
  if (SSL_write(ssl, req.data(), req.size()) != static_cast<int>(req.size())) {
    return false;
  }
  std::string got;
  char buf[4096];
  size_t need = std::string::npos;
  for (;;) {
    if (need == std::string::npos) {
      const size_t end = got.find("\r\n\r\n");
      if (end != std::string::npos) {
        const std::string head = absl::AsciiStrToLower(got.substr(0, end));
        const size_t cl = head.find("content-length:");
        size_t len = 0;
        if (cl == std::string::npos ||
            !absl::SimpleAtoi(absl::StripAsciiWhitespace(absl::string_view(head).substr(
                                  cl + 15, head.find("\r\n", cl) - cl - 15)),
                              &len)) {
          return false;
        }
        need = end + 4 + len;
      }
    }
    if (got.size() >= need) return true;
    const int n = SSL_read(ssl, buf, sizeof(buf));
    if (n <= 0) return false;
    got.append(buf, n);
  }
}

struct Load {
  double rate = 0;    // Requests per second (wall).
  double cpu_us = 0;  // Server process CPU per request.
  uint64_t errors = 0;
};

// RunLoad drives `server` for `seconds` from `clients` threads on CPU 1
// (or, with max_requests > 0, until that many requests were answered).
Load RunLoad(const Server& server, SSL_CTX* ctx, bool keep_alive,
             const Flags& flags, uint64_t max_requests = 0) {
  std::atomic<uint64_t> requests{0}, errors{0};
  const double cpu0 = ProcessCpuSeconds(server.pid);
  const absl::Time t0 = absl::Now();
  const absl::Time end = t0 + absl::Seconds(flags.seconds);
  std::vector<std::thread> threads;
  for (int t = 0; t < flags.clients; ++t) {
    threads.emplace_back([&] {
      PinThisThread(1);
      bssl::UniquePtr<SSL> ssl;
      int fd = -1;
      while (max_requests > 0 ? requests.load() < max_requests
                              : absl::Now() < end) {
        if (ssl == nullptr) {
          fd = ConnectLoopback(server.port);
          ssl.reset(SSL_new(ctx));
          SSL_set_fd(ssl.get(), fd);
          if (fd < 0 || SSL_connect(ssl.get()) != 1) {
            ++errors;
            ERR_clear_error();
            ssl.reset();
            if (fd >= 0) close(fd);
            usleep(1000);
            continue;
          }
        }
        const bool ok = Exchange(ssl.get(), !keep_alive);
        ok ? ++requests : ++errors;
        if (!ok) ERR_clear_error();
        if (!keep_alive || !ok) {
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
  const double secs = absl::ToDoubleSeconds(absl::Now() - t0);
  const double cpu = ProcessCpuSeconds(server.pid) - cpu0;
  Load l;
  l.errors = errors.load();
  const uint64_t n = requests.load();
  l.rate = n / secs;
  l.cpu_us = n == 0 ? 0 : cpu * 1e6 / n;
  return l;
}

// IdleRssPerConnection opens `count` TLS connections to `server` (handshake
// done, then idle) and returns the server's RSS growth per connection in
// KiB (measured after a short settle), or -1.
double IdleRssPerConnection(const Server& server, SSL_CTX* ctx, int count) {
  // Warm the server up (allocator pools, lazy init) before the baseline.
  for (int i = 0; i < 50; ++i) {
    const int fd = ConnectLoopback(server.port);
    bssl::UniquePtr<SSL> ssl(SSL_new(ctx));
    SSL_set_fd(ssl.get(), fd);
    if (SSL_connect(ssl.get()) == 1) Exchange(ssl.get(), true);
    ssl.reset();
    close(fd);
  }
  usleep(200000);
  const long before = RssKb(server.pid);
  // Opened from 4 threads (the handshakes are latency-bound one by one).
  constexpr int kOpeners = 4;
  std::vector<std::vector<bssl::UniquePtr<SSL>>> conns(kOpeners);
  std::vector<std::vector<int>> fds(kOpeners);
  std::atomic<int> failures{0};
  std::vector<std::thread> openers;
  for (int t = 0; t < kOpeners; ++t) {
    openers.emplace_back([&, t] {
      PinThisThread(1);
      for (int i = t; i < count; i += kOpeners) {
        const int fd = ConnectLoopback(server.port);
        if (fd < 0) {
          ++failures;
          continue;
        }
        bssl::UniquePtr<SSL> ssl(SSL_new(ctx));
        SSL_set_fd(ssl.get(), fd);
        if (SSL_connect(ssl.get()) != 1) {
          ++failures;
          ERR_clear_error();
          close(fd);
          continue;
        }
        conns[t].push_back(std::move(ssl));
        fds[t].push_back(fd);
      }
    });
  }
  for (std::thread& t : openers) t.join();
  usleep(500000);  // Let the server finish its side of the last handshakes.
  const long after = RssKb(server.pid);
  conns.clear();
  for (const std::vector<int>& v : fds) {
    for (int fd : v) close(fd);
  }
  usleep(500000);  // Let the server notice the closes before the next run.
  if (failures > 0) {
    fprintf(stderr, "  %s: %d of %d idle connections failed\n",
            server.name.c_str(), failures.load(), count);
  }
  const int opened = count - failures.load();
  if (before < 0 || after < 0 || opened <= 0) return -1;
  return static_cast<double>(after - before) / opened;
}

int Main(int argc, char** argv) {
  const Flags flags = ParseFlags(argc, argv);
  signal(SIGPIPE, SIG_IGN);
  RaiseFdLimit(20000);
  const TestPki pki = TestPki::Make(KeyType::kP256);
  char dir_template[] = "/tmp/https_compare_XXXXXX";
  if (mkdtemp(dir_template) == nullptr) return 1;
  const std::string dir = dir_template;
  WriteFile(dir + "/chain.pem", pki.ServerChainPem());
  WriteFile(dir + "/key.pem", pki.server.KeyPem());
  WriteFile(dir + "/root.pem", pki.RootPem());
  const bool have_nginx = access(flags.nginx.c_str(), X_OK) == 0;
  std::vector<Comparison> rows;

  if (!flags.ir_mode.empty()) {
    const bool mutual = flags.ir_mode == "new-mutual";
    const bool keep_alive = flags.ir_mode == "keepalive";
    bssl::UniquePtr<SSL_CTX> ctx = RawClientCtx(pki, mutual);
    Flags one = flags;
    one.clients = 1;
    one.seconds = 3600;
    for (Server s : {StartFacade(pki, mutual, 20000), StartRaw(pki, mutual, 4)}) {
      if (!WaitListening(s.port)) return 1;
      const Load l = RunLoad(s, ctx.get(), keep_alive, one, flags.requests);
      printf("pid=%d requests=%d errors=%llu name=%s\n", s.pid, flags.requests,
             static_cast<unsigned long long>(l.errors), s.name.c_str());
      fflush(stdout);
      Stop(s);
    }
    std::filesystem::remove_all(dir);
    return 0;
  }

  auto add_row = [&](std::string id, std::string figure, const Server& subj,
                     const std::vector<Load>& s, const Server& base,
                     const std::vector<Load>& b, double min_ratio) {
    Comparison c;
    c.id = std::move(id);
    c.figure = std::move(figure);
    c.unit = "req/s";
    c.subject = subj.name;
    c.baseline = base.name;
    uint64_t errors = 0;
    for (const Load& l : s) {
      c.subject_rate.push_back(l.rate);
      c.subject_cpu_us.push_back(l.cpu_us);
      errors += l.errors;
    }
    for (const Load& l : b) {
      c.baseline_rate.push_back(l.rate);
      c.baseline_cpu_us.push_back(l.cpu_us);
      errors += l.errors;
    }
    SetCpuRatio(c, min_ratio);
    if (errors > 0) c.note = absl::StrCat(errors, " failed requests");
    rows.push_back(std::move(c));
  };

  struct Mode {
    bool mutual;
    bool keep_alive;
    const char* id;
    const char* figure;
    double vs_raw, vs_nginx;
  };
  const Mode modes[] = {
      {false, false, "5-one-way",
       "HTTPS req/s per server core, new connection + full handshake, one-way",
       0.9, 1.0},
      {true, false, "5-mutual",
       "HTTPS req/s per server core, new connection + full handshake, mutual",
       0.9, 1.5},
      {false, true, "6", "HTTPS req/s per server core, keep-alive, one-way",
       0.9, 1.0},
  };
  Server servers[2][3];  // [mutual][facade, raw, nginx]
  for (bool mutual : {false, true}) {
    Server* s = servers[mutual];
    s[0] = StartFacade(pki, mutual, 20000);
    s[1] = StartRaw(pki, mutual, 4 * flags.clients + 4);
    if (have_nginx) s[2] = StartNginx(flags, dir, mutual);
    for (int i = 0; i < 3; ++i) {
      if (s[i].pid > 0 && !WaitListening(s[i].port)) {
        fprintf(stderr, "%s did not start (see %s/error.log)\n",
                s[i].name.c_str(), dir.c_str());
        Stop(s[i]);
      }
    }
  }
  for (const Mode& m : modes) {
    bssl::UniquePtr<SSL_CTX> ctx = RawClientCtx(pki, m.mutual);
    Server* s = servers[m.mutual];
    std::vector<Load> loads[3];
    fprintf(stderr, "%s\n", m.figure);
    for (int r = -1; r < flags.runs; ++r) {  // r == -1: warm-up.
      for (int i = 0; i < 3; ++i) {
        if (s[i].pid <= 0) continue;
        Flags f = flags;
        if (r < 0) f.seconds = 0.3;
        const Load l = RunLoad(s[i], ctx.get(), m.keep_alive, f);
        if (r < 0) continue;
        loads[i].push_back(l);
        fprintf(stderr, "  %-30s run %d: %9.0f req/s  %8.1f us/req server CPU%s\n",
                s[i].name.c_str(), r, l.rate, l.cpu_us,
                l.errors ? " (errors)" : "");
      }
    }
    add_row(absl::StrCat(m.id, "-raw"), m.figure, s[0], loads[0], s[1],
            loads[1], m.vs_raw);
    if (s[2].pid > 0) {
      add_row(absl::StrCat(m.id, "-nginx"), m.figure, s[0], loads[0], s[2],
              loads[2], m.vs_nginx);
    }
  }
  for (bool mutual : {false, true}) {
    for (Server& s : servers[mutual]) Stop(s);
  }

  // Row 9: RSS per idle connection, facade vs nginx (one-way), each run on
  // freshly started servers (freed memory is not returned to the system, so
  // a second run on the same process would measure ~0).
  if (flags.idle_connections > 0 && have_nginx) {
    bssl::UniquePtr<SSL_CTX> ctx = RawClientCtx(pki, false);
    Comparison c;
    c.id = "9";
    c.figure = absl::StrCat("memory per idle TLS connection (",
                            flags.idle_connections, " idle), server RSS delta");
    c.unit = "KiB/conn";
    fprintf(stderr, "idle connections (%d)\n", flags.idle_connections);
    for (int r = 0; r < flags.runs; ++r) {
      Server facade = StartFacade(pki, false, 20000);
      Server nginx = StartNginx(flags, dir, false);
      if (!WaitListening(facade.port) || !WaitListening(nginx.port)) {
        fprintf(stderr, "idle: a server did not start\n");
        Stop(facade);
        Stop(nginx);
        break;
      }
      c.subject = facade.name;
      c.baseline = nginx.name;
      c.subject_rate.push_back(
          IdleRssPerConnection(facade, ctx.get(), flags.idle_connections));
      c.baseline_rate.push_back(
          IdleRssPerConnection(nginx, ctx.get(), flags.idle_connections));
      Stop(facade);
      Stop(nginx);
      fprintf(stderr, "  run %d: facade %.2f KiB/conn, nginx %.2f KiB/conn\n",
              r, c.subject_rate.back(), c.baseline_rate.back());
    }
    const double subj = Summarize(c.subject_rate).median;
    const double base = Summarize(c.baseline_rate).median;
    c.ratio = base > 0 ? subj / base : 0;
    c.ratio_basis = "subject KiB per idle connection / baseline's (medians)";
    c.target = "<= 1";
    c.met = c.ratio > 0 && c.ratio <= 1.0;
    rows.push_back(std::move(c));
  }
  std::filesystem::remove_all(dir);

  std::string json = "[";
  for (size_t i = 0; i < rows.size(); ++i) {
    absl::StrAppend(&json, i ? ",\n" : "", ToJson(rows[i]));
  }
  json += "]\n";
  if (!flags.json.empty() && !WriteFile(flags.json, json)) return 1;
  printf("%s", json.c_str());
  return have_nginx ? 0 : 3;
}

}  // namespace
}  // namespace sslshim::bench

int main(int argc, char** argv) { return sslshim::bench::Main(argc, argv); }
