#include "tests/bench/bench_util.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "openssl/bio.h"
#include "openssl/pem.h"

namespace sslshim::bench {

bool PinThisThread(int cpu) {
  const int cpus = static_cast<int>(std::thread::hardware_concurrency());
  if (cpus <= 1) return true;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu % cpus, &set);
  return pthread_setaffinity_np(pthread_self(), sizeof(set), &set) == 0;
}

int64_t ThreadCpuNs() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

double ProcessCpuSeconds(pid_t pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/stat"));
  std::string line;
  if (!std::getline(in, line)) return -1;
  const size_t close_paren = line.rfind(')');
  if (close_paren == std::string::npos) return -1;
  std::istringstream rest(line.substr(close_paren + 2));
  std::string field;
  long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::atol(field.c_str());
    if (i == 15) stime = std::atol(field.c_str());
  }
  return static_cast<double>(utime + stime) / sysconf(_SC_CLK_TCK);
}

long RssKb(pid_t pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  }
  return -1;
}

std::string CpuModel() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  std::string model = "unknown";
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) {
      const size_t colon = line.find(':');
      if (colon != std::string::npos) model = line.substr(colon + 2);
      break;
    }
  }
  return absl::StrCat(model, " (", std::thread::hardware_concurrency(),
                      " CPUs)");
}

void RaiseFdLimit(long want) {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) != 0) return;
  const rlim_t target = std::min<rlim_t>(want, lim.rlim_max);
  if (lim.rlim_cur < target) {
    lim.rlim_cur = target;
    setrlimit(RLIMIT_NOFILE, &lim);
  }
}

Summary Summarize(std::vector<double> values) {
  Summary s;
  if (values.empty()) return s;
  std::sort(values.begin(), values.end());
  s.min = values.front();
  s.max = values.back();
  const size_t n = values.size();
  s.median = n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
  return s;
}

int ConnectLoopback(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

int ListenLoopback(int* port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  const int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      listen(fd, 4096) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    close(fd);
    return -1;
  }
  *port = ntohs(addr.sin_port);
  return fd;
}

namespace {

void TrustRoot(SSL_CTX* ctx, const testing::TestPki& pki) {
  X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx), pki.root.cert.get());
}

}  // namespace

bssl::UniquePtr<SSL_CTX> RawClientCtx(const testing::TestPki& pki, bool mutual) {
  bssl::UniquePtr<SSL_CTX> ctx(SSL_CTX_new(TLS_method()));
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_3_VERSION);
  SSL_CTX_set_session_cache_mode(ctx.get(), SSL_SESS_CACHE_OFF);
  TrustRoot(ctx.get(), pki);
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  if (mutual) {
    SSL_CTX_use_certificate(ctx.get(), pki.client.cert.get());
    SSL_CTX_add1_chain_cert(ctx.get(), pki.intermediate.cert.get());
    SSL_CTX_use_PrivateKey(ctx.get(), pki.client.key.get());
  }
  return ctx;
}

bssl::UniquePtr<SSL_CTX> RawServerCtx(const testing::TestPki& pki, bool mutual) {
  bssl::UniquePtr<SSL_CTX> ctx(SSL_CTX_new(TLS_method()));
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
  SSL_CTX_set_max_proto_version(ctx.get(), TLS1_3_VERSION);
  SSL_CTX_use_certificate(ctx.get(), pki.server.cert.get());
  SSL_CTX_add1_chain_cert(ctx.get(), pki.intermediate.cert.get());
  SSL_CTX_use_PrivateKey(ctx.get(), pki.server.key.get());
  if (mutual) {
    TrustRoot(ctx.get(), pki);
    SSL_CTX_set_verify(ctx.get(),
                       SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
                       nullptr);
  }
  return ctx;
}

bool WriteFile(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << data;
  return static_cast<bool>(out);
}

void SetCpuRatio(Comparison& c, double min_ratio) {
  const double subject = Summarize(c.subject_cpu_us).median;
  const double baseline = Summarize(c.baseline_cpu_us).median;
  c.ratio = subject > 0 ? baseline / subject : 0;
  c.ratio_basis =
      "baseline server CPU per op / subject server CPU per op (medians)";
  c.target = absl::StrCat(">= ", min_ratio);
  c.met = c.ratio >= min_ratio;
}

namespace {

std::string SeriesJson(const std::vector<double>& v) {
  const Summary s = Summarize(v);
  std::string runs;
  for (double x : v) absl::StrAppend(&runs, runs.empty() ? "" : ",", x);
  return absl::StrCat("{\"min\":", s.min, ",\"median\":", s.median,
                      ",\"max\":", s.max, ",\"runs\":[", runs, "]}");
}

std::string Quote(const std::string& s) {
  std::string out = "\"";
  for (char ch : s) {
    if (ch == '"' || ch == '\\') out.push_back('\\');
    out.push_back(ch);
  }
  return out + "\"";
}

}  // namespace

std::string ToJson(const Comparison& c) {
  return absl::StrCat(
      "{\"id\":", Quote(c.id), ",\"figure\":", Quote(c.figure),
      ",\"unit\":", Quote(c.unit), ",\"subject\":", Quote(c.subject),
      ",\"baseline\":", Quote(c.baseline),
      ",\"subject_rate\":", SeriesJson(c.subject_rate),
      ",\"baseline_rate\":", SeriesJson(c.baseline_rate),
      ",\"subject_cpu_us\":", SeriesJson(c.subject_cpu_us),
      ",\"baseline_cpu_us\":", SeriesJson(c.baseline_cpu_us),
      ",\"ratio\":", c.ratio, ",\"ratio_basis\":", Quote(c.ratio_basis),
      ",\"target\":", Quote(c.target), ",\"met\":", c.met ? "true" : "false",
      ",\"note\":", Quote(c.note), "}");
}

}  // namespace sslshim::bench
