// bench_util.h
// -----------------------------------------------------------------------------
// Small helpers shared by the issue-5 benchmarks (tls_bench, https_compare):
// CPU pinning, CPU-time and RSS probes, min/median summaries, a loopback
// connect, raw-BoringSSL client/server contexts over a TestPki (no facade),
// and a JSON-ish result row. Benchmark-only code (testonly).
//
//   PinThisThread(1);
//   const int64_t t0 = ThreadCpuNs();
//   ... work ...
//   Summary s = Summarize({1.0, 3.0, 2.0});   // s.min == 1, s.median == 2
//   bssl::UniquePtr<SSL_CTX> c = RawClientCtx(pki, /*mutual=*/true);

#ifndef SSLSHIM_TESTS_BENCH_BENCH_UTIL_H_
#define SSLSHIM_TESTS_BENCH_BENCH_UTIL_H_

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "openssl/ssl.h"
#include "testing/cert_builder.h"

namespace sslshim::bench {

// PinThisThread restricts the calling thread to `cpu` (ignored when the
// machine has fewer CPUs). Returns false when sched_setaffinity failed.
bool PinThisThread(int cpu);

// ThreadCpuNs is the calling thread's CPU time (user + system) in ns.
int64_t ThreadCpuNs();

// ProcessCpuSeconds is utime + stime of `pid` (all threads) from
// /proc/<pid>/stat; -1 when unreadable.
double ProcessCpuSeconds(pid_t pid);

// RssKb is VmRSS of `pid` from /proc/<pid>/status in KiB; -1 when unreadable.
long RssKb(pid_t pid);

// CpuModel is /proc/cpuinfo's first "model name" plus the CPU count.
std::string CpuModel();

// RaiseFdLimit raises RLIMIT_NOFILE's soft limit to min(want, hard).
void RaiseFdLimit(long want);

// Summary of repeated measurements.
struct Summary {
  double min = 0;
  double median = 0;
  double max = 0;
};
Summary Summarize(std::vector<double> values);

// ConnectLoopback opens a blocking TCP connection to 127.0.0.1:port with
// TCP_NODELAY; -1 on failure.
int ConnectLoopback(int port);

// ListenLoopback binds 127.0.0.1:0 (backlog 4096) and returns the fd; *port
// receives the bound port. -1 on failure.
int ListenLoopback(int* port);

// RawClientCtx: TLS 1.3 only, verifies the server against pki.root, no
// session cache; with `mutual` presents pki.client (+ intermediate).
bssl::UniquePtr<SSL_CTX> RawClientCtx(const testing::TestPki& pki, bool mutual);

// RawServerCtx: pki.server + intermediate, TLS 1.2-1.3 (the facade's range);
// with `mutual` requires and verifies a client certificate from pki.root.
bssl::UniquePtr<SSL_CTX> RawServerCtx(const testing::TestPki& pki, bool mutual);

// Comparison is one row of the benchmark table: a subject (the project's
// code) against a baseline measured side by side in the same run. Rates are
// operations per second of wall time; cpu_us is the server's CPU time per
// operation. `ratio` is what the target is judged on (see ratio_basis).
struct Comparison {
  std::string id;         // "1-oneway", ...
  std::string figure;     // What is measured.
  std::string unit;       // "handshakes/s", "MB/s", "req/s", "KiB/conn".
  std::string subject;    // e.g. "facade".
  std::string baseline;   // e.g. "raw BoringSSL".
  std::vector<double> subject_rate, baseline_rate;      // Per run.
  std::vector<double> subject_cpu_us, baseline_cpu_us;  // Per run.
  double ratio = 0;
  std::string ratio_basis;  // How `ratio` was computed.
  std::string target;       // ">= 0.95", "<= 1.0".
  bool met = false;
  std::string note;
};

// SetCpuRatio sets ratio = median(baseline_cpu_us) / median(subject_cpu_us)
// (throughput per server core) and `met` against `min_ratio`.
void SetCpuRatio(Comparison& c, double min_ratio);

// ToJson renders a Comparison (with min/median/max of each series).
std::string ToJson(const Comparison& c);

// WriteFile writes `data` to `path`; false on failure.
bool WriteFile(const std::string& path, const std::string& data);

}  // namespace sslshim::bench

#endif  // SSLSHIM_TESTS_BENCH_BENCH_UTIL_H_
