// redis_server.h
// -----------------------------------------------------------------------------
// Test-only: runs a private `redis-server` (from PATH) on a free loopback
// port, with no persistence, and stops it on destruction. Tests can stop and
// restart it on the same port to simulate an outage.
//
//   absl::StatusOr<std::unique_ptr<RedisServer>> redis = RedisServer::Start();
//   ASSERT_TRUE(redis.ok()) << redis.status();
//   ConnectTo("127.0.0.1", (*redis)->port());
//   (*redis)->Stop();     // outage
//   (*redis)->Restart();  // back, same port, empty data

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
};

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

 private:
  explicit RedisServer(RedisServerOptions options);
  absl::Status Launch();
  std::string LogTail() const;

  RedisServerOptions options_;
  int port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace sslshim::testing

#endif  // SSLSHIM_TESTING_REDIS_SERVER_H_
