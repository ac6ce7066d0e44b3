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
#include "testing/redis_server.h"
#include "tests/interop/subprocess.h"

namespace sslshim::runtime::cli {
namespace {

using ::sslshim::testing::RedisSentinelGroup;

class ServeFailoverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    files_ = WriteTestPki();
    absl::StatusOr<std::unique_ptr<RedisSentinelGroup>> group =
        RedisSentinelGroup::Start({.replicas = 1});
    ASSERT_TRUE(group.ok()) << group.status();
    group_ = *std::move(group);
    env_ = {{"SSLSHIM_KEK", std::string(64, 'b')},
            {"SSLSHIM_STORE", group_->SentinelUrl("?failover_wait_ms=15000")}};
    ASSERT_EQ(Import(), 0);
    absl::StatusOr<ServeChild> s =
        StartServe({"--http", "--certfile", "store:Web/1"}, env_);
    ASSERT_TRUE(s.ok()) << s.status();
    server_ = *std::move(s);
  }
  void TearDown() override {
    if (server_.process != nullptr) {
      interop::SubprocessResult r = Terminate(server_);
      EXPECT_EQ(r.exit_code, 0) << Describe(r);
    }
  }

  int Import() {
    interop::SubprocessResult r =
        RunSslshim({"store", "import", "Web/1", "--replace", "--cert",
                    files_.server_chain, "--key", files_.server_key},
                   env_);
    EXPECT_EQ(r.exit_code, 0) << Describe(r);
    return r.exit_code;
  }

  // One verified handshake; true when it succeeded within 3 s.
  bool Handshake() {
    const absl::Time start = absl::Now();
    interop::SubprocessResult r =
        RunSslshim({"connect", "--port", std::to_string(server_.port), "--cafile",
                    files_.ca, "--server-hostname", "localhost", "--timeout", "3"},
                   {}, absl::Seconds(10));
    EXPECT_EQ(r.exit_code, 0) << Describe(r);
    return r.exit_code == 0 && absl::Now() - start < absl::Seconds(3);
  }

  // The slot's generation as /_status shows it (0 when unreadable).
  uint64_t SlotGeneration() {
    interop::SubprocessResult r =
        RunSslshim({"fetch", "--cacert", files_.ca, "--body", "--timeout", "5",
                    absl::StrCat("https://localhost:", server_.port, "/_status")},
                   {}, absl::Seconds(15));
    EXPECT_EQ(r.exit_code, 0) << Describe(r);
    nlohmann::json j = OutputJson(r);
    if (!j.is_object() || !j.contains("body")) return 0;
    nlohmann::json status =
        nlohmann::json::parse(j["body"].get<std::string>(), nullptr, false);
    if (!status.is_object() || !status["slots"].is_array() || status["slots"].empty() ||
        !status["slots"][0]["generation"].is_number()) {
      return 0;
    }
    return status["slots"][0]["generation"].get<uint64_t>();
  }

  CliFiles files_;
  std::unique_ptr<RedisSentinelGroup> group_;
  ChildEnv env_;
  ServeChild server_;
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
  ASSERT_EQ(Import(), 0);
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
