#include "tests/adversarial/target.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "tests/adversarial/raw_tls.h"
#include "tests/bench/bench_util.h"
#include "testing/cert_builder.h"

namespace sslshim::adversarial {
namespace {

#if defined(__SANITIZE_ADDRESS__)
constexpr long kSlackKb = 96 << 10;
// A small quarantine keeps freed memory from looking like a leak.
constexpr char kAsanExtra[] = ":quarantine_size_mb=8";
#elif defined(__SANITIZE_THREAD__)
constexpr long kSlackKb = 128 << 10;
constexpr char kAsanExtra[] = "";
#else
constexpr long kSlackKb = 16 << 10;
constexpr char kAsanExtra[] = "";
#endif

// PkiFiles are the shared P-256 test PKI's PEM files, written once.
struct PkiFiles {
  std::string chain, key, ca;
};

const PkiFiles& Files() {
  static const PkiFiles* files = [] {
    const testing::TestPki& pki =
        testing::SharedTestPki(testing::KeyType::kP256);
    const char* tmp = getenv("TEST_TMPDIR");
    const std::string dir = absl::StrCat(tmp != nullptr ? tmp : "/tmp",
                                         "/adversarial_pki_", getpid());
    mkdir(dir.c_str(), 0700);
    auto* f = new PkiFiles{dir + "/server.pem", dir + "/server.key",
                           dir + "/ca.pem"};
    bench::WriteFile(f->chain, pki.ServerChainPem());
    bench::WriteFile(f->key, pki.server.KeyPem());
    bench::WriteFile(f->ca, pki.RootPem());
    return f;
  }();
  return *files;
}

std::string RunfilePath(const std::string& path) {
  for (const char* var : {"TEST_SRCDIR", "RUNFILES_DIR"}) {
    if (const char* root = getenv(var); root != nullptr) {
      const std::string full = absl::StrCat(root, "/sslshim/", path);
      if (access(full.c_str(), X_OK) == 0) return full;
    }
  }
  return path;
}

std::vector<std::string> Command(TargetKind kind, const TargetOptions& o) {
  const PkiFiles& f = Files();
  if (kind == TargetKind::kBinary) {
    std::vector<std::string> argv = {
        RunfilePath("runtime/sslshim"), "serve", "--http", "--port", "0",
        "--threads", "2", "--certfile", f.chain, "--keyfile", f.key,
        "--timeout",
        absl::StrCat(std::max<int64_t>(
            1, absl::ToInt64Seconds(o.handshake_timeout)))};
    if (o.mutual) {
      argv.insert(argv.end(), {"--cafile", f.ca, "--verify", "required"});
    }
    return argv;
  }
  std::vector<std::string> argv = {
      RunfilePath("tests/adversarial/target_server"),
      "--cert=" + f.chain,
      "--key=" + f.key,
      absl::StrCat("--handshake_timeout_ms=",
                   absl::ToInt64Milliseconds(o.handshake_timeout)),
      absl::StrCat("--request_timeout_ms=",
                   absl::ToInt64Milliseconds(o.request_timeout)),
      absl::StrCat("--idle_timeout_ms=",
                   absl::ToInt64Milliseconds(o.idle_timeout)),
      absl::StrCat("--max_connections=", o.max_connections)};
  if (o.mutual) argv.push_back("--ca=" + f.ca);
  return argv;
}

// ChildEnvironment: PATH and the test run's sanitizer options only.
std::vector<std::string> ChildEnvironment() {
  std::vector<std::string> env = {"PATH=/usr/bin:/bin"};
  for (const char* var :
       {"ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS", "TSAN_OPTIONS"}) {
    if (const char* value = getenv(var); value != nullptr) {
      std::string entry = absl::StrCat(var, "=", value);
      if (absl::string_view(var) == "ASAN_OPTIONS") entry += kAsanExtra;
      env.push_back(std::move(entry));
    }
  }
  return env;
}

std::vector<char*> CStrings(std::vector<std::string>& v) {
  std::vector<char*> out;
  for (std::string& s : v) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

std::string FdTargets(pid_t pid) {
  std::string out;
  const std::string dir = absl::StrCat("/proc/", pid, "/fd");
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return out;
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] == '.') continue;
    char link[256] = {0};
    const ssize_t n =
        readlink((dir + "/" + e->d_name).c_str(), link, sizeof(link) - 1);
    absl::StrAppend(&out, " ", e->d_name, "->", n > 0 ? link : "?");
  }
  closedir(d);
  return out;
}

}  // namespace

std::string TargetName(TargetKind kind) {
  return kind == TargetKind::kBinary ? "Binary" : "Library";
}

long RssSlackKb() { return kSlackKb; }

std::vector<Reply> ParseReplies(const std::string& raw) {
  std::vector<Reply> out;
  size_t pos = 0;
  for (;;) {
    const size_t end = raw.find("\r\n\r\n", pos);
    if (end == std::string::npos) return out;
    Reply r;
    r.head = raw.substr(pos, end + 2 - pos);
    std::vector<absl::string_view> lines = absl::StrSplit(r.head, "\r\n");
    std::vector<absl::string_view> first = absl::StrSplit(lines[0], ' ');
    if (first.size() < 2 || !absl::SimpleAtoi(first[1], &r.status)) return out;
    size_t length = 0;
    for (absl::string_view line : lines) {
      std::pair<absl::string_view, absl::string_view> kv =
          absl::StrSplit(line, absl::MaxSplits(':', 1));
      if (absl::EqualsIgnoreCase(kv.first, "Content-Length")) {
        (void)absl::SimpleAtoi(absl::StripAsciiWhitespace(kv.second), &length);
      }
    }
    if (raw.size() < end + 4 + length) return out;
    r.body = raw.substr(end + 4, length);
    out.push_back(std::move(r));
    pos = end + 4 + length;
  }
}

absl::StatusOr<std::unique_ptr<Target>> Target::Start(
    TargetKind kind, const TargetOptions& options) {
  std::unique_ptr<Target> t(new Target());
  t->kind_ = kind;
  t->options_ = options;
  static std::atomic<int> counter{0};
  const char* tmp = getenv("TEST_TMPDIR");
  const std::string base =
      absl::StrCat(tmp != nullptr ? tmp : "/tmp", "/target_", getpid(), "_",
                   counter++);
  t->out_path_ = base + ".out";
  t->err_path_ = base + ".err";

  std::vector<std::string> argv = Command(kind, options);
  std::vector<std::string> env = ChildEnvironment();
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, t->out_path_.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&fa, 2, t->err_path_.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t defaults, empty;
  sigemptyset(&defaults);
  for (int sig : {SIGPIPE, SIGTERM, SIGINT}) sigaddset(&defaults, sig);
  sigemptyset(&empty);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setsigmask(&attr, &empty);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
  std::vector<char*> cargv = CStrings(argv);
  std::vector<char*> cenv = CStrings(env);
  const int rc =
      posix_spawn(&t->pid_, cargv[0], &fa, &attr, cargv.data(), cenv.data());
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    return absl::UnavailableError(
        absl::StrCat("spawn ", argv[0], ": ", std::strerror(rc)));
  }
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (t->port_ == 0) {
    const std::string out = t->ReadFile(t->out_path_);
    const size_t at = out.find("PORT ");
    const size_t nl = out.find('\n', at);
    if (at != std::string::npos && nl != std::string::npos) {
      (void)absl::SimpleAtoi(out.substr(at + 5, nl - at - 5), &t->port_);
      break;
    }
    if (!t->Alive() || absl::Now() > deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat(argv[0], " printed no PORT line: ", t->ExitDescription()));
    }
    absl::SleepFor(absl::Milliseconds(10));
  }
  if (options.fd_limit > 0) {
    rlimit lim{};
    prlimit(t->pid_, RLIMIT_NOFILE, nullptr, &lim);
    lim.rlim_cur = options.fd_limit;
    if (prlimit(t->pid_, RLIMIT_NOFILE, &lim, nullptr) != 0) {
      return absl::UnavailableError(
          absl::StrCat("prlimit: ", std::strerror(errno)));
    }
  }
  return t;
}

Target::~Target() {
  if (Alive()) {
    kill(pid_, SIGKILL);
    waitpid(pid_, &wait_status_, 0);
  }
}

std::string Target::ReadFile(const std::string& path) const {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool Target::Alive() {
  if (exited_) return false;
  if (waitpid(pid_, &wait_status_, WNOHANG) == pid_) exited_ = true;
  return !exited_;
}

std::string Target::ExitDescription() {
  std::string what = "running";
  if (!Alive()) {
    if (WIFSIGNALED(wait_status_)) {
      what = absl::StrCat("killed by signal ", WTERMSIG(wait_status_), " (",
                          strsignal(WTERMSIG(wait_status_)), ")");
    } else {
      what = absl::StrCat("exit ", WEXITSTATUS(wait_status_));
    }
  }
  return absl::StrCat(TargetName(kind_), " server ", what,
                      "; stderr: ", ReadFile(err_path_));
}

int Target::FdCount() const {
  DIR* d = opendir(absl::StrCat("/proc/", pid_, "/fd").c_str());
  if (d == nullptr) return -1;
  int n = 0;
  while (dirent* e = readdir(d)) n += e->d_name[0] != '.';
  closedir(d);
  return n;
}

long Target::RssKb() const { return bench::RssKb(pid_); }

double Target::CpuSeconds() const { return bench::ProcessCpuSeconds(pid_); }

absl::StatusOr<Reply> Target::Get(const std::string& path) {
  absl::StatusOr<std::unique_ptr<RawTls>> c =
      RawTls::Connect(port_, {.client_cert = options_.mutual});
  if (!c.ok()) return c.status();
  absl::Status s = (*c)->Write(absl::StrCat(
      "GET ", path, " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"));
  if (!s.ok()) return s;
  std::vector<Reply> replies = ParseReplies((*c)->ReadUntilClose());
  if (replies.empty()) {
    return absl::AbortedError(absl::StrCat("GET ", path, ": no response"));
  }
  return replies.front();
}

absl::StatusOr<nlohmann::json> Target::Stats() {
  absl::StatusOr<Reply> r = Get("/_status");
  if (!r.ok()) return r.status();
  nlohmann::json j = nlohmann::json::parse(r->body, nullptr, false);
  if (r->status != 200 || !j.is_object() || !j["stats"].is_object()) {
    return absl::AbortedError(
        absl::StrCat("GET /_status: ", r->status, " ", r->body));
  }
  return j["stats"];
}

void Target::Baseline() {
  for (int i = 0; i < 6; ++i) (void)Get("/_status");
  for (int round = 0; round < 2; ++round) {
    std::vector<std::thread> threads;
    for (int i = 0; i < 4; ++i) {
      threads.emplace_back([this] { (void)Get("/warm-up"); });
    }
    for (std::thread& t : threads) t.join();
  }
  // The last connections may still be lingering: take the lowest count.
  baseline_fds_ = FdCount();
  for (int i = 0; i < 30; ++i) {
    absl::SleepFor(absl::Milliseconds(10));
    baseline_fds_ = std::min(baseline_fds_, FdCount());
  }
  baseline_rss_kb_ = RssKb();
}

::testing::AssertionResult Target::Recovered(absl::Duration wait) {
  const absl::Time deadline = absl::Now() + wait;
  if (!Alive()) return ::testing::AssertionFailure() << ExitDescription();
  int fds = FdCount();
  while (fds > baseline_fds_ && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(20));
    fds = FdCount();
  }
  if (!Alive()) return ::testing::AssertionFailure() << ExitDescription();
  if (fds > baseline_fds_) {
    return ::testing::AssertionFailure()
           << TargetName(kind_) << " server holds " << fds
           << " fds, baseline " << baseline_fds_ << ":" << FdTargets(pid_);
  }
  absl::StatusOr<nlohmann::json> stats = Stats();
  while (stats.ok() && (*stats)["connections_open"] != 1 &&
         absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(50));
    stats = Stats();
  }
  if (!stats.ok()) {
    return ::testing::AssertionFailure()
           << "good request failed: " << stats.status() << "; "
           << ExitDescription();
  }
  if ((*stats)["connections_open"] != 1) {
    return ::testing::AssertionFailure()
           << "connections still open: " << stats->dump();
  }
  const long rss = RssKb();
  if (rss > baseline_rss_kb_ + kSlackKb) {
    return ::testing::AssertionFailure()
           << "RSS " << rss << " KiB, baseline " << baseline_rss_kb_
           << " KiB + slack " << kSlackKb << " KiB";
  }
  return ::testing::AssertionSuccess()
         << "fds " << fds << ", RSS " << rss << " KiB (baseline "
         << baseline_rss_kb_ << ")";
}

std::vector<nlohmann::json> Target::Events() const {
  std::vector<nlohmann::json> events;
  for (absl::string_view line :
       absl::StrSplit(ReadFile(out_path_), '\n', absl::SkipEmpty())) {
    nlohmann::json j =
        nlohmann::json::parse(line.begin(), line.end(), nullptr, false);
    if (j.is_object()) events.push_back(std::move(j));
  }
  return events;
}

bool Target::WaitForEvents(size_t n, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (Events().size() < n) {
    if (absl::Now() > deadline) return false;
    absl::SleepFor(absl::Milliseconds(20));
  }
  return true;
}

nlohmann::json Target::EventFor(const std::string& peer,
                                absl::Duration timeout) const {
  const absl::Time deadline = absl::Now() + timeout;
  for (;;) {
    for (nlohmann::json& e : Events()) {
      if (e.value("peer", "") == peer) return e;
    }
    if (absl::Now() > deadline) {
      return nlohmann::json(nlohmann::json::value_t::discarded);
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
}

::testing::AssertionResult Target::Stop() {
  if (!Alive()) return ::testing::AssertionFailure() << ExitDescription();
  kill(pid_, SIGTERM);
  const absl::Time deadline = absl::Now() + absl::Seconds(15);
  while (Alive() && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  if (Alive()) {
    kill(pid_, SIGKILL);
    waitpid(pid_, &wait_status_, 0);
    exited_ = true;
    return ::testing::AssertionFailure()
           << TargetName(kind_) << " server ignored SIGTERM for 15 s";
  }
  if (WIFEXITED(wait_status_) && WEXITSTATUS(wait_status_) == 0) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure() << ExitDescription();
}

}  // namespace sslshim::adversarial
