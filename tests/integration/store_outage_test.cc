// A store that fails under a running server: the real `sslshim serve
// --certfile store:...` over a real redis-server that is paused (SIGSTOP),
// stopped, restarted empty and flushed. Each time the server must stay up,
// keep serving its last good credentials within bounded time, keep answering
// /_status, and end with its descriptors and memory back near the baseline.

#include <signal.h>
#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "runtime/cli/cli_test_util.h"
#include "runtime/cli/store_serve_test_base.h"
#include "testing/fd_count.h"
#include "testing/redis_server.h"
#include "tests/interop/subprocess.h"

namespace sslshim::runtime::cli {
namespace {

using ::testing::HasSubstr;

class StoreOutageTest : public StoreServeTest {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<sslshim::testing::RedisServer>> redis =
        sslshim::testing::RedisServer::Start();
    ASSERT_TRUE(redis.ok()) << redis.status();
    redis_ = *std::move(redis);
    StartServing(redis_->Url());
  }

  // One verified handshake with the server; returns how long it took.
  absl::Duration Handshake() {
    const absl::Time start = absl::Now();
    HandshakeWithin(absl::Seconds(5));
    return absl::Now() - start;
  }

  // GET /_status through the server: the slot's state as JSON text.
  std::string Status() {
    nlohmann::json status = FetchStatus(files_, server_.port);
    EXPECT_TRUE(status.is_object()) << "no /_status";
    return status.is_object() ? status.dump() : "";
  }

  // The slot's last_error as /_status shows it, polled until it is
  // non-empty (or empty when `want_error` is false) for up to 5 s.
  std::string SlotErrorWithin(bool want_error) {
    std::string error;
    const absl::Time until = absl::Now() + absl::Seconds(5);
    do {
      nlohmann::json status = FetchStatus(files_, server_.port);
      error.clear();
      if (status.is_object() && status["slots"].is_array() &&
          !status["slots"].empty() && status["slots"][0]["last_error"].is_string()) {
        error = status["slots"][0]["last_error"].get<std::string>();
      }
      if (error.empty() != want_error) return error;
      absl::SleepFor(absl::Milliseconds(250));
    } while (absl::Now() < until);
    ADD_FAILURE() << "slot last_error still " << (want_error ? "empty" : error);
    return error;
  }

  void ExpectAliveAndServing(absl::string_view phase) {
    SCOPED_TRACE(phase);
    EXPECT_EQ(kill(server_.process->pid(), 0), 0) << "server died";
    EXPECT_LT(Handshake(), absl::Seconds(3));
    EXPECT_THAT(Status(), HasSubstr("Web/1"));
  }

  std::unique_ptr<sslshim::testing::RedisServer> redis_;
};

TEST_F(StoreOutageTest, ServerKeepsServingThroughPauseStopRestartAndFlush) {
  const pid_t pid = server_.process->pid();
  ExpectAliveAndServing("baseline");
  // Warm up so allocator pools are in place before the baseline.
  for (int i = 0; i < 5; ++i) Handshake();
  const int fds_before = sslshim::testing::OpenFdCountOf(pid);
  const long rss_before = sslshim::testing::RssKbOf(pid);
  ASSERT_GT(fds_before, 0);

  // Paused: the store accepts connections and never answers.
  ASSERT_EQ(kill(redis_->pid(), SIGSTOP), 0);
  absl::SleepFor(absl::Seconds(2));
  ExpectAliveAndServing("redis paused");
  ASSERT_EQ(kill(redis_->pid(), SIGCONT), 0);
  absl::SleepFor(absl::Milliseconds(500));
  ExpectAliveAndServing("redis resumed");

  // Stopped: connections refused.
  ASSERT_TRUE(redis_->Stop().ok());
  absl::SleepFor(absl::Seconds(1));
  ExpectAliveAndServing("redis stopped");
  EXPECT_THAT(SlotErrorWithin(true), HasSubstr(absl::StrCat(redis_->port())));

  // Back, but empty (no persistence): the record is gone.
  ASSERT_TRUE(redis_->Restart().ok());
  absl::SleepFor(absl::Seconds(1));
  ExpectAliveAndServing("redis restarted empty");

  // Record back, then flushed under a live server.
  ASSERT_TRUE(ImportRecord());
  absl::SleepFor(absl::Milliseconds(500));
  ExpectAliveAndServing("record re-imported");
  EXPECT_EQ(SlotErrorWithin(false), "");
  absl::StatusOr<interop::SubprocessResult> flush = interop::Subprocess::Run(
      {"/usr/bin/redis-cli", "-p", std::to_string(redis_->port()), "FLUSHALL"});
  ASSERT_TRUE(flush.ok()) << flush.status();
  ASSERT_EQ(flush->exit_code, 0) << flush->err;
  absl::SleepFor(absl::Milliseconds(500));
  ExpectAliveAndServing("redis flushed");
  EXPECT_THAT(SlotErrorWithin(true), HasSubstr("Web/1"));

  for (int i = 0; i < 5; ++i) Handshake();
  EXPECT_LE(sslshim::testing::OpenFdCountOf(pid), fds_before + 2);
  EXPECT_LE(sslshim::testing::RssKbOf(pid), rss_before + 8 * 1024);
}

}  // namespace
}  // namespace sslshim::runtime::cli
