// redis_server.h
// -----------------------------------------------------------------------------
// Test-only: runs a private `redis-server` (from PATH) on a free loopback
// port, with no persistence, and stops it on destruction. Tests can stop and
// restart it on the same port to simulate an outage, or kill it (-9) to
// simulate a crash. RedisSentinelGroup runs a primary, replicas and
// sentinels (`redis-server --sentinel`) for failover tests.
//
//   absl::StatusOr<std::unique_ptr<RedisServer>> redis = RedisServer::Start();
//   ASSERT_TRUE(redis.ok()) << redis.status();
//   ConnectTo("127.0.0.1", (*redis)->port());
//   (*redis)->Stop();     // outage
//   (*redis)->Restart();  // back, same port, empty data
//
//   auto group = RedisSentinelGroup::Start({.master_name = "certs"});
//   (*group)->primary().Kill();
//   (*group)->WaitForNewMaster(absl::Seconds(20));

#ifndef SSLSHIM_TESTING_REDIS_SERVER_H_
#define SSLSHIM_TESTING_REDIS_SERVER_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace sslshim::testing {

// RedisServerOptions configures RedisServer::Start().
struct RedisServerOptions {
  // Extra command-line arguments, e.g. {"--requirepass", "s3cret"}.
  std::vector<std::string> extra_args;
  // Directory for the server's working files and log; a fresh directory
  // under $TEST_TMPDIR (or /tmp) when empty.
  std::string work_dir;
  // Lines of a redis.conf written to work_dir and loaded before the
  // command-line arguments (e.g. ACL `user ...` lines, `sentinel monitor`).
  std::vector<std::string> config_lines;
  // Run as a sentinel (`redis-server redis.conf --sentinel`).
  bool sentinel = false;
};

// RedisCommand() runs one command on 127.0.0.1:port, authenticated as
// `user`/`password` when `password` is non-empty, and returns the reply as
// text: strings and status as is, integers in decimal, nil as "(nil)", arrays
// as their elements joined by spaces, errors as their message (e.g.
// "NOPERM ..."). Errors: Unavailable when the server does not answer.
absl::StatusOr<std::string> RedisCommand(int port, const std::vector<std::string>& args,
                                         const std::string& user = "",
                                         const std::string& password = "");

// RedisServer owns one redis-server child process.
class RedisServer {
 public:
  // Start() picks a free loopback port, launches redis-server and waits
  // until it answers PING (up to 10 s). Errors: Unavailable with the log tail
  // when redis-server is missing or does not come up.
  static absl::StatusOr<std::unique_ptr<RedisServer>> Start(
      RedisServerOptions options = {});

  // Stops the server (SIGTERM, then SIGKILL after 5 s).
  ~RedisServer();

  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  bool running() const { return pid_ > 0; }

  // Url() is "redis://127.0.0.1:<port>/<db>".
  std::string Url(int db = 0) const;

  // Stop() terminates the server and waits for it. Idempotent.
  absl::Status Stop();

  // Restart() starts a new server on the same port (after Stop()).
  absl::Status Restart();

  // RestartAsReplicaOf() restarts the server on the same port as a replica
  // of 127.0.0.1:`master_port` from its first moment, as an operator brings
  // back a crashed primary that has no persistence: never as an empty master
  // that Sentinel could elect again (its documented data-loss case).
  absl::Status RestartAsReplicaOf(int master_port);

  // Kill() crashes the server (SIGKILL, no shutdown) and reaps it. Idempotent.
  void Kill();

 private:
  explicit RedisServer(RedisServerOptions options);
  absl::Status Launch();
  std::string LogTail() const;

  RedisServerOptions options_;
  int port_ = 0;
  pid_t pid_ = -1;
};

// SentinelGroupOptions configures RedisSentinelGroup::Start().
struct SentinelGroupOptions {
  std::string master_name = "certs";
  int replicas = 1;
  int sentinels = 3;  // Quorum is a majority of them.
  int down_after_ms = 1000;
  int failover_timeout_ms = 3000;
  // Extra arguments for the data nodes (primary and replicas).
  std::vector<std::string> node_args;
};

// RedisSentinelGroup owns a primary, its replicas and the sentinels that
// monitor it, all on free loopback ports. Destroying it stops them all.
class RedisSentinelGroup {
 public:
  // Start() launches everything and waits (up to 30 s) until every sentinel
  // knows every other sentinel and every replica, and the replicas are in
  // sync: from then on a failover can happen. Errors: Unavailable.
  static absl::StatusOr<std::unique_ptr<RedisSentinelGroup>> Start(
      SentinelGroupOptions options = {});

  RedisServer& primary() { return *nodes_[0]; }
  RedisServer& replica(int i) { return *nodes_[1 + i]; }
  RedisServer& sentinel(int i) { return *sentinels_[i]; }

  // SentinelUrl() is "redis-sentinel://127.0.0.1:P1,...,127.0.0.1:Pn/NAME",
  // followed by `params` (e.g. "?namespace=x") when given.
  std::string SentinelUrl(const std::string& params = "") const;

  // MasterPort() is the master port the first answering sentinel reports.
  absl::StatusOr<int> MasterPort() const;

  // WaitForNewMaster() waits until the sentinels report a master other than
  // the original primary and that node says ROLE master; returns its port.
  // Errors: DeadlineExceeded.
  absl::StatusOr<int> WaitForNewMaster(absl::Duration timeout);

 private:
  explicit RedisSentinelGroup(SentinelGroupOptions options)
      : options_(std::move(options)) {}
  bool Ready() const;

  const SentinelGroupOptions options_;
  int original_primary_port_ = 0;
  std::vector<std::unique_ptr<RedisServer>> nodes_;  // [0] is the primary.
  std::vector<std::unique_ptr<RedisServer>> sentinels_;
};

}  // namespace sslshim::testing

#endif  // SSLSHIM_TESTING_REDIS_SERVER_H_
