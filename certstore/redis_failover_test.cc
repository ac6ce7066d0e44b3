// Sentinel failover (issue 8, item 5): a primary, a replica and three
// sentinels on loopback; a reader, a watcher and a compare-and-set writer run
// against a redis-sentinel:// store while the primary is killed with -9.
// Writes use replica_acks=1 (WAIT 1 after each write), so "acknowledged"
// means "the replica had it", which is what Redis keeps across a failover.
// (With two replicas WAIT 1 is not enough: the sentinels may promote the
// replica that lacks the write.) Once the old primary is restarted, the
// sentinels make it a replica of the new master and writes are acknowledged
// again.

#include <signal.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "certstore/redis_store.h"
#include "certstore/store_url.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/redis_server.h"
#include "testing/status_matchers.h"

namespace sslshim::certstore {
namespace {

using ::sslshim::testing::IsOk;
using ::sslshim::testing::RedisCommand;
using ::sslshim::testing::RedisSentinelGroup;
using ::sslshim::testing::StatusIs;
using ::testing::HasSubstr;

KeyPath P(std::initializer_list<KeyPath::Arg> args) { return *KeyPath::Of(args); }

const KeyPath kCounter = P({"Counter", "c"});

absl::StatusOr<std::unique_ptr<RedisStore>> OpenSentinelStore(const std::string& url) {
  absl::StatusOr<RedisStoreOptions> o = ParseRedisStoreUrl(url);
  if (!o.ok()) return o.status();
  o->connect_timeout = absl::Milliseconds(300);
  o->command_timeout = absl::Milliseconds(500);
  return RedisStore::Create(*std::move(o));
}

// ResyncWithin() reads events until a kResync (true) or `timeout` passes.
bool ResyncWithin(Watcher& watcher, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    absl::StatusOr<absl::optional<WatchEvent>> ev = watcher.Next(absl::Milliseconds(100));
    if (ev.ok() && ev->has_value() && (*ev)->type == WatchEvent::Type::kResync)
      return true;
  }
  return false;
}

// BackgroundLoop runs Step() on its own thread until Stop() and keeps the
// times at which a step succeeded.
class BackgroundLoop {
 public:
  virtual ~BackgroundLoop() = default;

  void Start() {
    thread_ = std::thread([this] { Run(); });
  }
  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  // FirstSuccessAfter() is the time of the first successful step after `t`.
  absl::optional<absl::Time> FirstSuccessAfter(absl::Time t) {
    std::lock_guard<std::mutex> lock(mu_);
    for (absl::Time s : successes_) {
      if (s > t) return s;
    }
    return absl::nullopt;
  }
  // LongestGapAfter() is the longest time between two successful steps
  // (or from `t` to the first one) after `t`.
  absl::Duration LongestGapAfter(absl::Time t) {
    std::lock_guard<std::mutex> lock(mu_);
    absl::Duration gap;
    for (absl::Time s : successes_) {
      if (s <= t) continue;
      gap = std::max(gap, s - t);
      t = s;
    }
    return gap;
  }
  int failures() const { return failures_; }

 protected:
  // Step() does one round; true when it succeeded.
  virtual bool Step(uint64_t n) = 0;

 private:
  void Run() {
    for (uint64_t n = 1; !stop_; ++n) {
      if (Step(n)) {
        std::lock_guard<std::mutex> lock(mu_);
        successes_.push_back(absl::Now());
      } else {
        ++failures_;
      }
      absl::SleepFor(absl::Milliseconds(5));
    }
  }

  std::atomic<bool> stop_{false};
  std::atomic<int> failures_{0};
  std::mutex mu_;
  std::vector<absl::Time> successes_;
  std::thread thread_;
};

// Reads kCounter.
class ReaderLoop : public BackgroundLoop {
 public:
  explicit ReaderLoop(Store* store) : store_(store) { Start(); }
  ~ReaderLoop() override { Stop(); }

 private:
  bool Step(uint64_t) override { return store_->Get(kCounter).ok(); }
  Store* const store_;
};

// Writes Log/<n> (must not exist) and bumps kCounter by compare-and-set,
// keeping what the store acknowledged. A step succeeds when the log write
// was acknowledged.
class WriterLoop : public BackgroundLoop {
 public:
  explicit WriterLoop(Store* store) : store_(store) { Start(); }
  ~WriterLoop() override { Stop(); }

  std::map<uint64_t, std::string> acked_logs() {
    std::lock_guard<std::mutex> lock(mu_);
    return acked_logs_;
  }
  uint64_t acked_counter_generation() const { return acked_counter_; }

 private:
  bool Step(uint64_t n) override {
    std::string value = absl::StrCat("write ", n);
    absl::StatusOr<uint64_t> log =
        store_->Put(P({"Log", absl::StrCat(n)}), value, kMustNotExist);
    absl::StatusOr<StoreEntry> cur = store_->Get(kCounter);
    absl::StatusOr<uint64_t> cas =
        cur.ok() ? store_->Put(kCounter, value, cur->generation) : cur.status();
    if (cas.ok()) acked_counter_ = *cas;
    if (!log.ok()) return false;
    std::lock_guard<std::mutex> lock(mu_);
    acked_logs_[n] = value;
    return true;
  }

  Store* const store_;
  std::atomic<uint64_t> acked_counter_{0};
  std::mutex mu_;
  std::map<uint64_t, std::string> acked_logs_;
};

TEST(RedisFailoverTest, KilledPrimaryIsFollowedWithoutLosingAcknowledgedWrites) {
  ASSERT_OK_AND_ASSIGN(
      auto group, RedisSentinelGroup::Start({.master_name = "certs", .replicas = 1}));
  const int old_port = group->primary().port();
  const std::string url = group->SentinelUrl(
      "?namespace=fo&replica_acks=1&replica_ack_timeout_ms=500&failover_wait_ms=20000");
  ASSERT_OK_AND_ASSIGN(auto reader_store, OpenSentinelStore(url));
  ASSERT_OK_AND_ASSIGN(auto writer_store, OpenSentinelStore(url));
  EXPECT_EQ(reader_store->Describe(), absl::StrCat(group->SentinelUrl("?db=0"),
                                                   " (master 127.0.0.1:", old_port, ")"));
  ASSERT_OK(writer_store->Put(kCounter, "start", kAnyGeneration).status());
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Watcher> watcher,
                       reader_store->Watch(KeyPath::Root()));

  ReaderLoop reader(reader_store.get());
  WriterLoop writer(writer_store.get());
  absl::SleepFor(absl::Seconds(1));
  ASSERT_GT(writer.acked_logs().size(), 10u) << "writes before the failover";

  const absl::Time killed = absl::Now();
  group->primary().Kill();
  ASSERT_OK_AND_ASSIGN(int new_port, group->WaitForNewMaster(absl::Seconds(30)));
  const absl::Duration promoted = absl::Now() - killed;
  // Back as a replica of the new master (empty, no persistence): restarted
  // as a plain master it could be elected again under load and wipe the
  // data set, Sentinel's documented data-loss case, not the store's.
  ASSERT_OK(group->primary().RestartAsReplicaOf(new_port));
  absl::optional<absl::Time> read_back;
  absl::optional<absl::Time> write_back;
  while (absl::Now() - killed < absl::Seconds(30) && !(read_back && write_back)) {
    absl::SleepFor(absl::Milliseconds(20));
    read_back = reader.FirstSuccessAfter(killed + promoted);
    write_back = writer.FirstSuccessAfter(killed + promoted);
  }
  absl::SleepFor(absl::Milliseconds(500));  // Traffic on the new master.
  reader.Stop();
  writer.Stop();
  ASSERT_TRUE(read_back.has_value()) << "reads never resumed";
  ASSERT_TRUE(write_back.has_value()) << "acknowledged writes never resumed";
  const absl::Duration read_gap = reader.LongestGapAfter(killed);
  std::cout << "failover: sentinels promoted 127.0.0.1:" << new_port << " "
            << absl::FormatDuration(promoted)
            << " after kill -9 of 127.0.0.1:" << old_port
            << "; longest time without a successful read "
            << absl::FormatDuration(read_gap) << " (first read "
            << absl::FormatDuration(*read_back - killed - promoted)
            << " after the promotion was visible); acknowledged writes again after "
            << absl::FormatDuration(*write_back - killed)
            << " (once the restarted old primary replicates); "
            << writer.acked_logs().size() << " acknowledged log writes, "
            << writer.failures() << " unacknowledged or failed, " << reader.failures()
            << " failed reads" << std::endl;
  EXPECT_LT(read_gap, absl::Seconds(15));

  // Every acknowledged write is on the new master, read back from it alone.
  ASSERT_OK_AND_ASSIGN(auto direct,
                       RedisStore::Create({.port = new_port, .key_namespace = "fo"}));
  std::cout << "keys on the new master: "
            << RedisCommand(new_port, {"DBSIZE"}).value_or("?") << std::endl;
  int lost = 0;
  for (const auto& [n, value] : writer.acked_logs()) {
    absl::StatusOr<StoreEntry> e = direct->Get(P({"Log", absl::StrCat(n)}));
    if (!e.ok() || e->value != value) {
      ++lost;
      ADD_FAILURE() << "acknowledged write " << n << " lost: " << e.status();
    }
    if (lost > 5) break;
  }
  ASSERT_OK_AND_ASSIGN(StoreEntry counter, reader_store->Get(kCounter));
  EXPECT_GE(counter.generation, writer.acked_counter_generation());

  // The status says where the store is and what happened.
  RedisMasterStatus status = reader_store->master_status();
  EXPECT_EQ(status.master, absl::StrCat("127.0.0.1:", new_port));
  EXPECT_EQ(status.failovers, 1u);
  EXPECT_EQ(status.previous_master, absl::StrCat("127.0.0.1:", old_port));
  EXPECT_GE(status.last_failover, killed);
  EXPECT_THAT(
      reader_store->Describe(),
      HasSubstr(absl::StrCat("(master 127.0.0.1:", new_port,
                             ") after 1 failover, last from 127.0.0.1:", old_port)));
  std::cout << "status: " << reader_store->Describe() << std::endl;

  // The watcher resubscribes on the new master, says resync, then sees puts.
  ASSERT_TRUE(ResyncWithin(*watcher, absl::Seconds(10)));
  const absl::Time watch_deadline = absl::Now() + absl::Seconds(10);
  ASSERT_OK(writer_store->Put(P({"After", 1}), "x", kAnyGeneration).status());
  absl::optional<WatchEvent> put;
  while (!put && absl::Now() < watch_deadline) {
    absl::StatusOr<absl::optional<WatchEvent>> ev =
        watcher->Next(absl::Milliseconds(200));
    if (ev.ok() && ev->has_value() && (*ev)->path == P({"After", 1})) put = **ev;
  }
  ASSERT_TRUE(put.has_value()) << "no event from the new master";
  EXPECT_EQ(put->type, WatchEvent::Type::kPut);
}

// A demoted master answers READONLY; the store asks the sentinels again
// instead of failing the write.
// A manual failover leaves the old primary up (as a master, until the
// sentinels demote it): writes it still takes are not acknowledged (it has
// no replica any more), and acknowledged ones land on the new master.
TEST(RedisFailoverTest, ManualFailoverIsFollowedByWrites) {
  ASSERT_OK_AND_ASSIGN(auto group, RedisSentinelGroup::Start({.replicas = 1}));
  ASSERT_OK_AND_ASSIGN(auto store,
                       OpenSentinelStore(group->SentinelUrl(
                           "?namespace=ro&replica_acks=1&replica_ack_timeout_ms=300")));
  ASSERT_OK(store->Put(kCounter, "0", kAnyGeneration).status());
  ASSERT_THAT(RedisCommand(group->sentinel(0).port(), {"SENTINEL", "failover", "certs"}),
              IsOk());
  ASSERT_OK_AND_ASSIGN(int new_port, group->WaitForNewMaster(absl::Seconds(20)));
  std::string acked;
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  for (int i = 1; acked.empty() && absl::Now() < deadline; ++i) {
    std::string value = absl::StrCat(i);
    if (store->Put(kCounter, value, kAnyGeneration).ok()) acked = value;
  }
  ASSERT_FALSE(acked.empty()) << "no acknowledged write after the failover";
  EXPECT_EQ(store->master_status().master, absl::StrCat("127.0.0.1:", new_port));
  ASSERT_OK_AND_ASSIGN(auto direct,
                       RedisStore::Create({.port = new_port, .key_namespace = "ro"}));
  ASSERT_OK_AND_ASSIGN(StoreEntry e, direct->Get(kCounter));
  EXPECT_EQ(e.value, acked);
}

// A paused primary (alive, silent: a partition) never closes the watcher's
// connection; the watcher follows the master that the store's commands
// found through the sentinels.
TEST(RedisFailoverTest, WatcherLeavesAPausedPrimary) {
  ASSERT_OK_AND_ASSIGN(auto group, RedisSentinelGroup::Start({.replicas = 1}));
  ASSERT_OK_AND_ASSIGN(auto store, OpenSentinelStore(group->SentinelUrl("?namespace=p")));
  ASSERT_OK(store->Put(kCounter, "0", kAnyGeneration).status());
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Watcher> watcher, store->Watch(KeyPath::Root()));
  ASSERT_EQ(kill(group->primary().pid(), SIGSTOP), 0);
  ASSERT_OK_AND_ASSIGN(int new_port, group->WaitForNewMaster(absl::Seconds(20)));
  ASSERT_OK(store->Get(kCounter).status());  // Times out, asks the sentinels again.
  EXPECT_EQ(store->master_status().master, absl::StrCat("127.0.0.1:", new_port));
  const bool resynced = ResyncWithin(*watcher, absl::Seconds(5));
  kill(group->primary().pid(), SIGCONT);
  ASSERT_TRUE(resynced) << "the watcher stayed on the paused primary";
  ASSERT_OK(store->Put(P({"After", 1}), "x", kAnyGeneration).status());
  ASSERT_OK_AND_ASSIGN(absl::optional<WatchEvent> ev, watcher->Next(absl::Seconds(2)));
  ASSERT_TRUE(ev.has_value());
  EXPECT_EQ(ev->path, P({"After", 1}));
}

TEST(RedisFailoverTest, UnknownMasterNameIsNotFound) {
  ASSERT_OK_AND_ASSIGN(auto group,
                       RedisSentinelGroup::Start({.replicas = 0, .sentinels = 1}));
  std::string url = group->SentinelUrl();
  url = url.substr(0, url.rfind('/')) + "/nosuch";
  EXPECT_THAT(OpenSentinelStore(url), StatusIs(absl::StatusCode::kNotFound,
                                               HasSubstr("does not know master nosuch")));
}

}  // namespace
}  // namespace sslshim::certstore
