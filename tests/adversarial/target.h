// target.h (testonly)
// -----------------------------------------------------------------------------
// The server under attack, as a process of its own on loopback: either the
// runtime's HttpsServer in `target_server` (timeouts and limits set per
// test), or the real `sslshim serve --http` binary. The test measures it
// from outside: alive or not (and how it died), its open fds and RSS from
// /proc/<pid>, its CPU time, its counters (GET /_status), and its
// connection events (the JSON lines it prints, kept in a file so a test
// that does not read them can never block the server on a full pipe).
//
//   absl::StatusOr<std::unique_ptr<Target>> t =
//       Target::Start(TargetKind::kLibrary, {.request_timeout = ...});
//   (*t)->Baseline();                 // warm up, then record fds and RSS
//   ... attack (*t)->port() ...
//   EXPECT_TRUE((*t)->Recovered());   // alive, serves, fds/RSS back
//
// Baseline slack (documented in the README's adversarial paragraph): the
// fd count must return exactly to its baseline; RSS may stay above it by
// kRssSlackKb (the allocator keeps freed pages; a leak of a few KiB per
// connection over the suite's hundreds of connections still exceeds it).
// Under ASan/TSan the slack is larger (quarantine and shadow memory), and
// LeakSanitizer checks the library target at its exit instead.
//
// The child starts with SIGPIPE at its default action and an empty signal
// mask whatever the test process set (the suite's own clients ignore
// SIGPIPE), so a server that writes to a reset socket without MSG_NOSIGNAL
// dies here as it would in production.

#ifndef SSLSHIM_TESTS_ADVERSARIAL_TARGET_H_
#define SSLSHIM_TESTS_ADVERSARIAL_TARGET_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace sslshim::adversarial {

// TargetKind: which server process is attacked.
enum class TargetKind {
  kLibrary,  // runtime::HttpsServer in tests/adversarial/target_server.
  kBinary,   // `sslshim serve --http` (runtime/sslshim).
};

// TargetName: "Library" / "Binary" (test parameter names).
std::string TargetName(TargetKind kind);

// TargetOptions: timeouts and limits. The binary takes only the handshake
// timeout (its --timeout, whole seconds) and mutual TLS; the other fields
// apply to the library target.
struct TargetOptions {
  bool mutual = false;  // Require the test PKI's client certificate.
  absl::Duration handshake_timeout = absl::Seconds(2);
  absl::Duration request_timeout = absl::Seconds(2);
  absl::Duration idle_timeout = absl::Seconds(5);
  int max_connections = 10000;
  // RLIMIT_NOFILE soft limit set on the running server (prlimit); 0: keep.
  int fd_limit = 0;
};

// Reply is one HTTP response.
struct Reply {
  int status = 0;
  std::string head;  // Status line and headers.
  std::string body;
};

// ParseReplies splits `raw` into Content-Length framed responses; a
// trailing partial response is dropped.
std::vector<Reply> ParseReplies(const std::string& raw);

// RSS slack over the baseline, in KiB (see the banner).
long RssSlackKb();

class Target {
 public:
  // Start spawns the server, waits for its "PORT <n>" line and applies the
  // fd limit. Errors: Unavailable (spawn), DeadlineExceeded (no PORT line
  // within 20 s; the message holds its stderr).
  static absl::StatusOr<std::unique_ptr<Target>> Start(
      TargetKind kind, const TargetOptions& options = {});

  // Kills the server (SIGKILL) if it still runs, and reaps it.
  ~Target();
  Target(const Target&) = delete;
  Target& operator=(const Target&) = delete;

  TargetKind kind() const { return kind_; }
  const TargetOptions& options() const { return options_; }
  int port() const { return port_; }
  pid_t pid() const { return pid_; }

  // Alive: the process has not exited (reaps it when it has).
  bool Alive();
  // ExitDescription: "running", "exit N" or "signal N (SIGPIPE)" plus the
  // server's stderr.
  std::string ExitDescription();
  // FdCount: entries of /proc/<pid>/fd; -1 when gone.
  int FdCount() const;
  long RssKb() const;
  double CpuSeconds() const;

  // Get sends one "GET <path>" (Connection: close) on a fresh verified TLS
  // connection (with the client certificate when mutual) and returns the
  // response. Errors: the connection's or Aborted (no response).
  absl::StatusOr<Reply> Get(const std::string& path);
  // Stats: GET /_status's "stats" object.
  absl::StatusOr<nlohmann::json> Stats();

  // Baseline warms the server up (sequential and concurrent good
  // requests, so both event loops and the allocator's arenas are in use),
  // then records its fd count and RSS.
  void Baseline();
  int baseline_fds() const { return baseline_fds_; }
  long baseline_rss_kb() const { return baseline_rss_kb_; }

  // Recovered checks, within `wait`: alive; fd count back to the baseline;
  // a good request served with connections_open == 1 (itself); RSS within
  // RssSlackKb() of the baseline. The failure message says which and why.
  ::testing::AssertionResult Recovered(absl::Duration wait = absl::Seconds(8));

  // Events returns the connection events printed so far.
  std::vector<nlohmann::json> Events() const;
  // WaitForEvents waits until at least `n` events were printed.
  bool WaitForEvents(size_t n, absl::Duration timeout = absl::Seconds(10));

  // EventFor waits for the event of the connection from `peer` (see
  // LocalName in raw_tls.h); a discarded json when none came.
  nlohmann::json EventFor(const std::string& peer,
                          absl::Duration timeout = absl::Seconds(10)) const;

  // Stop sends SIGTERM and waits (up to 15 s, then SIGKILL); the result
  // is AssertionSuccess only for exit 0 (LeakSanitizer fails it under ASan).
  ::testing::AssertionResult Stop();

 private:
  Target() = default;
  std::string ReadFile(const std::string& path) const;

  TargetKind kind_ = TargetKind::kLibrary;
  TargetOptions options_;
  pid_t pid_ = -1;
  int port_ = 0;
  bool exited_ = false;
  int wait_status_ = 0;
  std::string out_path_;
  std::string err_path_;
  int baseline_fds_ = -1;
  long baseline_rss_kb_ = -1;
};

}  // namespace sslshim::adversarial

#endif  // SSLSHIM_TESTS_ADVERSARIAL_TARGET_H_
