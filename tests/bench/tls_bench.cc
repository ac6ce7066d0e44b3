// tls_bench: issue-5 table rows 1-4, the facade against raw BoringSSL over
// loopback TCP, side by side in one run (tools/bench.sh runs it):
//
//   bazel run -c opt //tests/bench:tls_bench -- --runs=3 --json=/tmp/tls.json
//
// Every sample runs a server thread pinned to CPU 0 and a raw-BoringSSL
// client thread pinned to CPU 1, one connection at a time:
//   handshake  accept, full TLS 1.3 handshake (ECDSA P-256, one-way or
//              mutual), write 1 byte, close; the client reads the byte.
//   resumed    the same with the client offering the ticket it got last time.
//   bulk       one connection; the server writes 16 KiB records.
// Server variants: raw BoringSSL (SSL_accept/SSL_write on the fd), the
// facade (SSLContext::wrap_socket + do_handshake/write, context built from
// in-memory PEM), and the facade with the context from a CredentialSlot over
// an LMDB store (slot->Current() per connection). The figure judged is the
// server thread's CPU time per operation (what bounds a server core); the
// achieved rate is printed too. Variants are interleaved run by run.

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "certstore/cert_store.h"
#include "certstore/key_path.h"
#include "certstore/sealing.h"
#include "certstore/store_url.h"
#include "openssl/err.h"
#include "openssl/ssl.h"
#include "runtime/credential_slot.h"
#include "runtime/sni_index.h"
#include "runtime/sni_provider.h"
#include "shim/reader.h"
#include "shim/ssl_socket.h"
#include "shim/wrap_socket.h"
#include "tests/bench/bench_util.h"
#include "testing/cert_builder.h"

namespace sslshim::bench {
namespace {

using testing::KeyType;
using testing::TestPki;

struct Flags {
  int runs = 3;
  double scale = 1.0;  // Multiplies operation counts.
  std::string json;
  // Instruction-count mode (tools/bench.sh --instructions runs it under
  // callgrind --toggle-collect='*ServeOnce*'): one sample of `ops`
  // operations of variant `only` (raw|facade|lmdb) in `group`
  // (handshake-one-way|handshake-mutual|resumed|bulk; bulk ops are MB).
  std::string only, group;
  int ops = 200;
  int sni_tenants = 10000;  // Row 7; 0 skips it.
  bool sni_only = false;    // Only row 7.
};

Flags ParseFlags(int argc, char** argv) {
  Flags f;
  for (int i = 1; i < argc; ++i) {
    absl::string_view a = argv[i];
    if (absl::ConsumePrefix(&a, "--runs=")) {
      (void)absl::SimpleAtoi(a, &f.runs);
    } else if (absl::ConsumePrefix(&a, "--scale=")) {
      (void)absl::SimpleAtod(a, &f.scale);
    } else if (absl::ConsumePrefix(&a, "--json=")) {
      f.json = std::string(a);
    } else if (absl::ConsumePrefix(&a, "--only=")) {
      f.only = std::string(a);
    } else if (absl::ConsumePrefix(&a, "--group=")) {
      f.group = std::string(a);
    } else if (absl::ConsumePrefix(&a, "--ops=")) {
      (void)absl::SimpleAtoi(a, &f.ops);
    } else if (a == "--sni_only") {
      f.sni_only = true;
    } else if (absl::ConsumePrefix(&a, "--sni_tenants=")) {
      (void)absl::SimpleAtoi(a, &f.sni_tenants);
    } else {
      fprintf(stderr,
              "usage: %s [--runs=N] [--scale=X] [--json=PATH] "
              "[--only=raw|facade|lmdb --group=G --ops=N]\n",
              argv[0]);
      exit(2);
    }
  }
  return f;
}

// A server variant: serves one accepted connection (owns `fd`). For bulk it
// writes `bulk_bytes` in 16 KiB writes, otherwise one byte. False on error.
using ServeFn = std::function<bool(int fd, size_t bulk_bytes)>;

constexpr size_t kChunk = 16 << 10;

ServeFn RawServe(SSL_CTX* ctx) {
  return [ctx](int fd, size_t bulk_bytes) {
    bssl::UniquePtr<SSL> ssl(SSL_new(ctx));
    SSL_set_fd(ssl.get(), fd);
    bool ok = SSL_accept(ssl.get()) == 1;
    static const std::string chunk(kChunk, 'x');
    size_t left = bulk_bytes == 0 ? 1 : bulk_bytes;
    while (ok && left > 0) {
      const int n = static_cast<int>(std::min(left, kChunk));
      ok = SSL_write(ssl.get(), chunk.data(), n) == n;
      left -= n;
    }
    if (!ok) ERR_clear_error();
    ssl.reset();
    close(fd);
    return ok;
  };
}

ServeFn FacadeServe(std::function<std::shared_ptr<shim::SSLContext>()> ctx) {
  return [ctx](int fd, size_t bulk_bytes) {
    absl::StatusOr<std::unique_ptr<shim::SSLSocket>> sock = ctx()->wrap_socket(
        fd, {.server_side = true, .do_handshake_on_connect = false});
    if (!sock.ok()) return false;
    if (!(*sock)->do_handshake().ok()) return false;
    static const std::string chunk(kChunk, 'x');
    size_t left = bulk_bytes == 0 ? 1 : bulk_bytes;
    while (left > 0) {
      const size_t n = std::min(left, kChunk);
      if (!(*sock)->sendall(absl::string_view(chunk.data(), n)).ok()) {
        return false;
      }
      left -= n;
    }
    return true;  // The socket's destructor closes the fd.
  };
}

// The newest ticket a resuming client received (client thread only).
thread_local bssl::UniquePtr<SSL_SESSION> latest_ticket;

int KeepTicket(SSL*, SSL_SESSION* session) {
  latest_ticket.reset(session);
  return 1;  // Ownership taken.
}

// ResumingClientCtx is RawClientCtx (one-way) with tickets kept by
// KeepTicket, so each connection offers the previous connection's ticket.
bssl::UniquePtr<SSL_CTX> ResumingClientCtx(const TestPki& pki) {
  bssl::UniquePtr<SSL_CTX> ctx = RawClientCtx(pki, /*mutual=*/false);
  SSL_CTX_set_session_cache_mode(
      ctx.get(), SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL);
  SSL_CTX_sess_set_new_cb(ctx.get(), KeepTicket);
  return ctx;
}

// Server names the client sends, round robin across samples (client thread
// only); empty: no SNI.
std::vector<std::string> sni_names;
size_t next_sni = 0;

struct Sample {
  double rate = 0;    // Operations (or MB for bulk) per second of wall time.
  double cpu_us = 0;  // Server thread CPU per operation (or per MB).
  int failures = 0;
  int reused = 0;
};

// ServeOnce is where callgrind's --toggle-collect='*ServeOnce*' counts the
// server's instructions (kept out of line so the symbol exists).
__attribute__((noinline)) bool ServeOnce(const ServeFn& serve, int fd,
                                         size_t bulk_bytes) {
  return serve(fd, bulk_bytes);
}

// RunSample serves `n` connections (bulk: 1 connection of `bulk_bytes`).
Sample RunSample(const ServeFn& serve, SSL_CTX* client_ctx, bool resume,
                 int n, size_t bulk_bytes) {
  int port = 0;
  const int listen_fd = ListenLoopback(&port);
  if (listen_fd < 0) {
    fprintf(stderr, "listen failed\n");
    exit(1);
  }
  Sample s;
  int64_t server_cpu = 0;
  int server_failures = 0;
  std::thread server([&] {
    PinThisThread(0);
    const int64_t c0 = ThreadCpuNs();
    for (int i = 0; i < n; ++i) {
      const int fd = accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
      const int one = 1;  // As HttpsServer does.
      if (fd >= 0) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
      if (fd < 0 || !ServeOnce(serve, fd, bulk_bytes)) ++server_failures;
    }
    server_cpu = ThreadCpuNs() - c0;
  });
  PinThisThread(1);
  latest_ticket.reset();
  std::vector<char> buf(64 << 10);
  const absl::Time t0 = absl::Now();
  for (int i = 0; i < n; ++i) {
    const int fd = ConnectLoopback(port);
    bssl::UniquePtr<SSL> ssl(SSL_new(client_ctx));
    SSL_set_fd(ssl.get(), fd);
    if (!sni_names.empty()) {
      SSL_set_tlsext_host_name(ssl.get(),
                               sni_names[next_sni++ % sni_names.size()].c_str());
    }
    if (resume && latest_ticket != nullptr) {
      SSL_set_session(ssl.get(), latest_ticket.get());
    }
    bool ok = fd >= 0 && SSL_connect(ssl.get()) == 1;
    size_t want = bulk_bytes == 0 ? 1 : bulk_bytes;
    while (ok && want > 0) {
      const int r = SSL_read(ssl.get(), buf.data(), static_cast<int>(buf.size()));
      ok = r > 0;
      if (ok) want -= std::min<size_t>(want, r);
    }
    if (ok && SSL_session_reused(ssl.get())) ++s.reused;
    if (!ok) {
      ++s.failures;
      ERR_clear_error();
    }
    ssl.reset();
    if (fd >= 0) close(fd);
  }
  const double secs = absl::ToDoubleSeconds(absl::Now() - t0);
  server.join();
  close(listen_fd);
  s.failures += server_failures;
  const double ops = bulk_bytes == 0 ? n : n * (bulk_bytes / 1e6);
  s.rate = ops / secs;
  s.cpu_us = server_cpu / 1e3 / ops;
  return s;
}

struct Variant {
  std::string name;
  ServeFn serve;
};

// Group measures variants side by side, interleaved, `runs` times each.
std::vector<std::vector<Sample>> Group(const std::vector<Variant>& variants,
                                       SSL_CTX* client_ctx, bool resume, int n,
                                       size_t bulk_bytes, int runs) {
  std::vector<std::vector<Sample>> out(variants.size());
  // One untimed warm-up sample per variant (page faults, lazy init).
  for (const Variant& v : variants) {
    RunSample(v.serve, client_ctx, resume, std::max(1, n / 10), bulk_bytes / 4);
  }
  for (int r = 0; r < runs; ++r) {
    for (size_t i = 0; i < variants.size(); ++i) {
      out[i].push_back(RunSample(variants[i].serve, client_ctx, resume, n,
                                 bulk_bytes));
      const Sample& s = out[i].back();
      fprintf(stderr, "  %-28s run %d: %10.0f /s  %8.2f us/op server CPU%s\n",
              variants[i].name.c_str(), r, s.rate, s.cpu_us,
              s.failures ? " FAILURES" : "");
    }
  }
  return out;
}

Comparison Compare(std::string id, std::string figure, std::string unit,
                   const Variant& subject, const std::vector<Sample>& subj,
                   const Variant& baseline, const std::vector<Sample>& base,
                   double min_ratio) {
  Comparison c;
  c.id = std::move(id);
  c.figure = std::move(figure);
  c.unit = std::move(unit);
  c.subject = subject.name;
  c.baseline = baseline.name;
  int failures = 0;
  for (const Sample& s : subj) {
    c.subject_rate.push_back(s.rate);
    c.subject_cpu_us.push_back(s.cpu_us);
    failures += s.failures;
  }
  for (const Sample& s : base) {
    c.baseline_rate.push_back(s.rate);
    c.baseline_cpu_us.push_back(s.cpu_us);
    failures += s.failures;
  }
  SetCpuRatio(c, min_ratio);
  if (failures > 0) {
    c.met = false;
    c.note = absl::StrCat(failures, " failed operations");
  }
  return c;
}

int Main(int argc, char** argv) {
  const Flags flags = ParseFlags(argc, argv);
  const TestPki pki = TestPki::Make(KeyType::kP256);
  std::vector<Comparison> rows;

  // The LMDB-backed slot: one record with cert chain, key and CA.
  char dir_template[] = "/tmp/tls_bench_lmdb_XXXXXX";
  if (mkdtemp(dir_template) == nullptr) return 1;
  auto store = certstore::OpenStore(absl::StrCat("lmdb:", dir_template));
  if (!store.ok()) {
    fprintf(stderr, "%s\n", store.status().ToString().c_str());
    return 1;
  }
  auto kek = certstore::Kek::FromBytes(std::string(32, '\x42'));
  auto cert_store =
      certstore::CertStore::Create(*std::move(store), {.keks = {*kek}});
  if (!cert_store.ok()) return 1;
  const certstore::KeyPath path =
      *certstore::KeyPath::Of({"Service", "bench", "Address", 1});
  if (!(*cert_store)
           ->Put(path, {{"cert", pki.ServerChainPem()},
                        {"key_str", pki.server.KeyPem()},
                        {"ca", pki.RootPem()}})
           .ok()) {
    fprintf(stderr, "store put failed\n");
    return 1;
  }

  for (bool mutual : {false, true}) {
    if (flags.sni_only) break;
    const char* mode = mutual ? "mutual" : "one-way";
    auto make_args = [mutual](std::string key, std::string chain,
                              std::string root) {
      shim::WrapSocketArgs args{.keyfile = shim::StringIO(std::move(key)),
                                .certfile = shim::StringIO(std::move(chain)),
                                .server_side = true};
      if (mutual) {
        args.cert_reqs = shim::CERT_REQUIRED;
        args.ca_certs = shim::StringIO(std::move(root));
      }
      return args;
    };
    absl::StatusOr<std::shared_ptr<shim::SSLContext>> mem_ctx =
        shim::MakeWrapContext(
            make_args(pki.server.KeyPem(), pki.ServerChainPem(), pki.RootPem()));
    if (!mem_ctx.ok()) return 1;
    runtime::SlotOptions slot_options;
    slot_options.ca_field = "ca";
    auto slot = runtime::CredentialSlot::Create(
        cert_store->get(), path,
        [&](const runtime::CredentialBytes& b) {
          return shim::MakeWrapContext(make_args(std::string(b.key.view()),
                                                 std::string(b.cert.view()),
                                                 std::string(b.ca.view())));
        },
        slot_options);
    if (!slot.ok()) {
      fprintf(stderr, "slot: %s\n", slot.status().ToString().c_str());
      return 1;
    }
    bssl::UniquePtr<SSL_CTX> raw_server = RawServerCtx(pki, mutual);
    bssl::UniquePtr<SSL_CTX> client = RawClientCtx(pki, mutual);
    std::shared_ptr<shim::SSLContext> mem = *mem_ctx;
    runtime::CredentialSlot* slot_ptr = slot->get();
    const Variant raw{"raw BoringSSL", RawServe(raw_server.get())};
    const Variant facade{"facade (in-memory PEM)",
                         FacadeServe([mem] { return mem; })};
    const Variant lmdb{"facade (LMDB CredentialSlot)",
                       FacadeServe([slot_ptr] { return slot_ptr->Current(); })};
    if (!flags.only.empty()) {
      // Instruction-count mode: one sample of one variant, then exit.
      const Variant& v = flags.only == "raw"      ? raw
                         : flags.only == "facade" ? facade
                                                  : lmdb;
      bssl::UniquePtr<SSL_CTX> resuming = ResumingClientCtx(pki);
      Sample x;
      if (flags.group == absl::StrCat("handshake-", mode)) {
        x = RunSample(v.serve, client.get(), false, flags.ops, 0);
      } else if (!mutual && flags.group == "resumed") {
        x = RunSample(v.serve, resuming.get(), true, flags.ops, 0);
      } else if (!mutual && flags.group == "bulk") {
        x = RunSample(v.serve, client.get(), false, 1, flags.ops * 1000000ul);
      } else {
        continue;
      }
      printf("ops=%d failures=%d reused=%d\n", flags.ops, x.failures,
             x.reused);
      slot->reset();  // Its watch thread reads the store.
      cert_store->reset();
      std::filesystem::remove_all(dir_template);
      return x.failures == 0 ? 0 : 1;
    }
    const int n = static_cast<int>((mutual ? 600 : 1500) * flags.scale);
    fprintf(stderr, "full handshakes, %s (%d per sample)\n", mode, n);
    auto s = Group({raw, facade, lmdb}, client.get(), false, n, 0, flags.runs);
    rows.push_back(Compare(absl::StrCat("1-", mode),
                           absl::StrCat("full handshakes/s, TLS 1.3 P-256, ",
                                        mode, ", loopback"),
                           "handshakes/s", facade, s[1], raw, s[0], 0.95));
    rows.push_back(Compare(absl::StrCat("2-", mode),
                           absl::StrCat("full handshakes/s, ", mode,
                                        ", credentials from LMDB store"),
                           "handshakes/s", lmdb, s[2], facade, s[1], 0.97));
    if (mutual) continue;

    const int resumed_n = static_cast<int>(3000 * flags.scale);
    fprintf(stderr, "resumed handshakes (%d per sample)\n", resumed_n);
    bssl::UniquePtr<SSL_CTX> resuming = ResumingClientCtx(pki);
    auto r = Group({raw, facade}, resuming.get(), true, resumed_n, 0, flags.runs);
    rows.push_back(Compare("3", "resumed handshakes/s (TLS 1.3 ticket, one-way)",
                           "handshakes/s", facade, r[1], raw, r[0], 0.95));
    for (const auto& series : r) {
      for (const Sample& x : series) {
        if (x.reused < resumed_n - 1) {
          rows.back().met = false;
          rows.back().note = absl::StrCat("only ", x.reused, " of ", resumed_n,
                                          " handshakes resumed");
        }
      }
    }

    const size_t bulk = static_cast<size_t>(512e6 * flags.scale);
    fprintf(stderr, "bulk, 16 KiB writes (%zu bytes per sample)\n", bulk);
    auto b = Group({raw, facade}, client.get(), false, 1, bulk, flags.runs);
    rows.push_back(Compare("4", "bulk MB/s, one connection, 16 KiB writes",
                           "MB/s", facade, b[1], raw, b[0], 0.95));
  }

  if (flags.sni_tenants > 0) {
    // Row 7: tenants in a store (memory backend: the steady state is the
    // provider's cache either way), indexed by SAN, every name cached.
    auto tenant_store = certstore::OpenStore("memory:");
    auto tenants = certstore::CertStore::Create(*std::move(tenant_store),
                                                {.keks = {*kek}});
    if (!tenants.ok()) return 1;
    fprintf(stderr, "issuing %d tenant certificates\n", flags.sni_tenants);
    sni_names.clear();
    for (int i = 0; i < flags.sni_tenants; ++i) {
      const std::string name = absl::StrCat("t", i, ".tenants.test");
      testing::Issued leaf = testing::Issue(
          {.common_name = name, .dns_names = {name}}, KeyType::kP256,
          &pki.intermediate);
      if (!(*tenants)
               ->Put(*certstore::KeyPath::Of({"Tenant", i}),
                     {{"cert", leaf.CertPem() + pki.intermediate.CertPem()},
                      {"key_str", leaf.KeyPem()}})
               .ok()) {
        return 1;
      }
      sni_names.push_back(name);
    }
    if (!runtime::RebuildSniIndex(**tenants, certstore::KeyPath()).ok()) {
      return 1;
    }
    auto single = shim::MakeWrapContext(
        {.keyfile = shim::StringIO(pki.server.KeyPem()),
         .certfile = shim::StringIO(pki.ServerChainPem()),
         .server_side = true});
    auto sni_default = shim::MakeWrapContext(
        {.keyfile = shim::StringIO(pki.server.KeyPem()),
         .certfile = shim::StringIO(pki.ServerChainPem()),
         .server_side = true});
    if (!single.ok() || !sni_default.ok()) return 1;
    runtime::SniProviderOptions sni_options;
    sni_options.cache_capacity = static_cast<size_t>(flags.sni_tenants) * 2;
    auto provider =
        runtime::SniProvider::Create(tenants->get(), *sni_default, sni_options);
    if (!provider.ok()) {
      fprintf(stderr, "sni: %s\n", provider.status().ToString().c_str());
      return 1;
    }
    std::shared_ptr<shim::SSLContext> one = *single, many = *sni_default;
    const Variant single_v{"single certificate", FacadeServe([one] { return one; })};
    const Variant sni_v{absl::StrCat("SNI, ", flags.sni_tenants, " tenants"),
                        FacadeServe([many] { return many; })};
    bssl::UniquePtr<SSL_CTX> client = RawClientCtx(pki, false);
    fprintf(stderr, "priming the SNI cache (%d handshakes)\n", flags.sni_tenants);
    const Sample prime =
        RunSample(sni_v.serve, client.get(), false, flags.sni_tenants, 0);
    const int n = static_cast<int>(1500 * flags.scale);
    fprintf(stderr, "SNI handshakes (%d per sample)\n", n);
    auto x = Group({single_v, sni_v}, client.get(), false, n, 0, flags.runs);
    rows.push_back(Compare(
        "7",
        absl::StrCat("full handshakes/s, one-way, certificate chosen by SNI "
                     "among ", flags.sni_tenants,
                     " tenants (all cached; names round robin)"),
        "handshakes/s", sni_v, x[1], single_v, x[0], 0.9));
    const runtime::SniStats st = (*provider)->Stats();
    rows.back().note = absl::StrCat("provider: ", st.hits, " cache hits, ",
                                    st.misses, " misses, ", st.evictions,
                                    " evictions");
    if (prime.failures > 0 || st.hits == 0) {
      rows.back().met = false;
      absl::StrAppend(&rows.back().note, "; ", prime.failures,
                      " failed priming handshakes");
    }
    sni_names.clear();
  }

  std::string json = "[";
  for (size_t i = 0; i < rows.size(); ++i) {
    absl::StrAppend(&json, i ? ",\n" : "", ToJson(rows[i]));
  }
  json += "]\n";
  cert_store->reset();
  std::filesystem::remove_all(dir_template);
  if (!flags.json.empty() && !WriteFile(flags.json, json)) return 1;
  printf("%s", json.c_str());
  return 0;
}

}  // namespace
}  // namespace sslshim::bench

int main(int argc, char** argv) { return sslshim::bench::Main(argc, argv); }
