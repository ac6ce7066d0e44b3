// The real `sslshim serve --http --certfile store:Web/1` over a
// redis-sentinel:// store while the Redis primary is killed with -9: every
// handshake during the failover succeeds (the credential slot serves its
// cached context), /_status keeps answering, and a rotation written through
// the new master reaches the server (the slot's watch resubscribed there).

#include <signal.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "runtime/cli/cli_test_util.h"
#include "runtime/cli/store_serve_test_base.h"
#include "testing/redis_server.h"
#include "tests/interop/subprocess.h"

namespace sslshim::runtime::cli {
namespace {

using ::sslshim::testing::RedisSentinelGroup;

class ServeFailoverTest : public StoreServeTest {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<RedisSentinelGroup>> group =
        RedisSentinelGroup::Start({.replicas = 1});
    ASSERT_TRUE(group.ok()) << group.status();
    group_ = *std::move(group);
    StartServing(group_->SentinelUrl("?failover_wait_ms=15000"));
  }

  // One verified handshake; true when it succeeded within 3 s.
  bool Handshake() { return HandshakeWithin(absl::Seconds(3)); }

  // The slot's generation as /_status shows it (0 when unreadable).
  uint64_t SlotGeneration() {
    nlohmann::json status = FetchStatus(files_, server_.port);
    if (!status.is_object() || !status["slots"].is_array() || status["slots"].empty() ||
        !status["slots"][0]["generation"].is_number()) {
      return 0;
    }
    return status["slots"][0]["generation"].get<uint64_t>();
  }

  std::unique_ptr<RedisSentinelGroup> group_;
};

TEST_F(ServeFailoverTest, ServerKeepsServingAndFollowsTheNewMaster) {
  ASSERT_TRUE(Handshake());
  ASSERT_EQ(SlotGeneration(), 1u);
  const int old_port = group_->primary().port();

  const absl::Time killed = absl::Now();
  group_->primary().Kill();
  int handshakes = 0, failed = 0;
  absl::optional<absl::Duration> promoted;
  while (!promoted && absl::Now() - killed < absl::Seconds(30)) {
    ++handshakes;
    failed += !Handshake();
    absl::StatusOr<int> master = group_->MasterPort();
    if (master.ok() && *master != old_port) promoted = absl::Now() - killed;
  }
  ASSERT_TRUE(promoted.has_value()) << "no new master";
  EXPECT_EQ(kill(server_.process->pid(), 0), 0) << "server died";

  // A writer rotates the record through the new master; the server follows.
  ASSERT_TRUE(ImportRecord());
  const absl::Time rotated = absl::Now();
  uint64_t generation = 0;
  while (generation != 2 && absl::Now() - rotated < absl::Seconds(15)) {
    ++handshakes;
    failed += !Handshake();
    generation = SlotGeneration();
  }
  EXPECT_EQ(generation, 2u) << "the server never saw the rotation on the new master";
  EXPECT_EQ(failed, 0) << "of " << handshakes << " handshakes";
  std::cout << "serve failover: new master after " << absl::FormatDuration(*promoted)
            << ", rotation visible in /_status after "
            << absl::FormatDuration(absl::Now() - rotated) << "; " << handshakes
            << " handshakes, " << failed << " failed" << std::endl;
}

}  // namespace
}  // namespace sslshim::runtime::cli
