#include "certstore/lmdb_store.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <iostream>
#include <random>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "certstore/lmdb_damage.h"
#include "certstore/record.h"
#include "certstore/sigbus_death.h"
#include "certstore/store_conformance.h"
#include "gmock/gmock.h"
#include "testing/status_matchers.h"

namespace sslshim::certstore::testing {
namespace {

using ::sslshim::testing::IsOk;
using ::sslshim::testing::StatusIs;
using ::testing::HasSubstr;

std::string FreshDir(absl::string_view name) {
  static int counter = 0;
  std::string dir =
      absl::StrCat(getenv("TEST_TMPDIR"), "/", name, "_", getpid(), "_", counter++);
  return dir;
}

class LmdbBackend : public OwnedStoreBackend<LmdbStore> {
 public:
  absl::Status Open() {
    absl::StatusOr<std::unique_ptr<LmdbStore>> s =
        LmdbStore::Create({.directory = FreshDir("suite"), .sync = false});
    if (!s.ok()) return s.status();
    store_ = *std::move(s);
    return absl::OkStatus();
  }
};

INSTANTIATE_TEST_SUITE_P(Lmdb, StoreConformanceTest,
                         ::testing::Values(FactoryFor<LmdbBackend>("lmdb")),
                         [](const auto& info) { return info.param.name; });

KeyPath P(std::initializer_list<KeyPath::Arg> args) { return *KeyPath::Of(args); }

// A self-checking value: an encoded record (checksummed) whose blob is a
// pure function of its seed.
std::string Pattern(uint64_t seed) {
  std::string blob(seed % (192 * 1024) + 1, '\0');
  std::mt19937_64 rng(seed);
  for (char& c : blob) c = static_cast<char>(rng());
  return blob;
}
std::string MakeValue(uint64_t seed) {
  Record r;
  r.fields["seed"] = Field{absl::StrCat(seed), false};
  r.fields["blob"] = Field{Pattern(seed), false};
  return EncodeRecord(r);
}
// Returns an empty string when `value` is intact, else what is wrong.
std::string CheckValue(absl::string_view value) {
  absl::StatusOr<Record> r = DecodeRecord(value);
  if (!r.ok()) return r.status().ToString();
  uint64_t seed;
  if (!absl::SimpleAtoi(r->fields["seed"].value, &seed)) return "bad seed";
  if (r->fields["blob"].value != Pattern(seed)) return "blob mismatch";
  return "";
}

// Verifies every record; appends "path=generation;" for each to *snapshot.
// Returns the number of records checked.
size_t VerifyAll(const std::string& dir, std::string* snapshot) {
  absl::StatusOr<std::unique_ptr<LmdbStore>> store =
      LmdbStore::Create({.directory = dir});
  EXPECT_THAT(store, IsOk());
  if (!store.ok()) return 0;
  size_t n = 0;
  std::string cursor;
  do {
    absl::StatusOr<ListPage> page = (*store)->List(KeyPath::Root(), 100, cursor);
    EXPECT_THAT(page, IsOk());
    if (!page.ok()) return n;
    for (const KeyPath& p : page->paths) {
      absl::StatusOr<StoreEntry> e = (*store)->Get(p);
      EXPECT_THAT(e, IsOk()) << p;
      if (e.ok()) {
        EXPECT_EQ(CheckValue(e->value), "") << p;
        absl::StrAppend(snapshot, p.ToString(), "=", e->generation, ";");
      }
      ++n;
    }
    cursor = page->next_cursor;
  } while (!cursor.empty());
  return n;
}

// Writes forever; after its first committed put, writes one byte to
// `ready_fd` so the parent kills it while it is busy writing.
[[noreturn]] void WriterChild(const std::string& dir, uint64_t seed, int ready_fd) {
  absl::StatusOr<std::unique_ptr<LmdbStore>> store =
      LmdbStore::Create({.directory = dir});
  if (!store.ok()) _exit(3);
  std::mt19937_64 rng(seed);
  for (bool first = true;; first = false) {
    uint64_t s = rng();
    KeyPath p = P({"Crash", "w", "Rec", static_cast<int64_t>(s % 40)});
    if (s % 11 == 0 && !first) {
      (*store)->Delete(p, kAnyGeneration).IgnoreError();
    } else {
      (*store)->Put(p, MakeValue(s), kAnyGeneration).IgnoreError();
    }
    if (first && write(ready_fd, "r", 1) != 1) _exit(4);
  }
}

TEST(LmdbCrashTest, WriterKilledAtRandomPointsNeverTearsARecord) {
  constexpr int kKills = 60;
  std::string dir = FreshDir("crash");
  std::mt19937 rng(12345);
  size_t verified = 0;
  std::string last_snapshot;
  int kills_after_progress = 0;
  for (int i = 0; i < kKills; ++i) {
    int ready[2];
    ASSERT_EQ(pipe(ready), 0);
    uint64_t seed = rng();
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      close(ready[0]);
      WriterChild(dir, seed, ready[1]);
    }
    close(ready[1]);
    char c;
    ASSERT_EQ(read(ready[0], &c, 1), 1) << "writer died before writing";
    close(ready[0]);
    usleep(rng() % 15000);  // Somewhere in the middle of later writes.
    ASSERT_EQ(kill(pid, SIGKILL), 0);
    int status;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(status)) << "writer exited early: " << status;
    std::string snapshot;
    verified += VerifyAll(dir, &snapshot);
    if (snapshot != last_snapshot) ++kills_after_progress;
    last_snapshot = snapshot;
  }
  std::cout << kKills << " kills, " << verified << " record reads verified, "
            << kills_after_progress << " kills landed after new writes\n";
  EXPECT_GT(verified, 0u);
  EXPECT_GE(kills_after_progress, kKills - 2);
  // And the store still takes writes after all that.
  ASSERT_OK_AND_ASSIGN(auto store, LmdbStore::Create({.directory = dir}));
  EXPECT_THAT(store->Put(P({"After", 1}), MakeValue(1), kAnyGeneration), IsOk());
}

TEST(LmdbMultiProcessTest, ManyReaderProcessesWhileOneWrites) {
  std::string dir = FreshDir("readers");
  {
    ASSERT_OK_AND_ASSIGN(auto store, LmdbStore::Create({.directory = dir}));
    for (int i = 0; i < 20; ++i) {
      ASSERT_OK(store->Put(P({"R", i}), MakeValue(i), kAnyGeneration).status());
    }
  }
  std::vector<pid_t> readers;
  for (int r = 0; r < 4; ++r) {
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      auto store = LmdbStore::Create({.directory = dir});
      if (!store.ok()) _exit(3);
      absl::Time end = absl::Now() + absl::Milliseconds(1500);
      int reads = 0;
      while (absl::Now() < end) {
        for (int i = 0; i < 20; ++i) {
          absl::StatusOr<StoreEntry> e = (*store)->Get(P({"R", i}));
          if (!e.ok() || !CheckValue(e->value).empty()) _exit(1);
          ++reads;
        }
      }
      _exit(reads > 0 ? 0 : 2);
    }
    readers.push_back(pid);
  }
  ASSERT_OK_AND_ASSIGN(auto store, LmdbStore::Create({.directory = dir}));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Watcher> watcher, store->Watch(P({"R", 0})));
  absl::Time end = absl::Now() + absl::Milliseconds(1500);
  uint64_t seed = 100;
  while (absl::Now() < end) {
    ASSERT_OK(store
                  ->Put(P({"R", static_cast<int64_t>(seed % 20)}), MakeValue(seed),
                        kAnyGeneration)
                  .status());
    ++seed;
  }
  for (pid_t pid : readers) {
    int status;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  }
  // A change made by another process reaches this process's watcher.
  pid_t pid = fork();
  if (pid == 0) {
    auto child = LmdbStore::Create({.directory = dir});
    _exit(child.ok() && (*child)->Put(P({"R", 0, "Sub", 1}), "x", kAnyGeneration).ok()
              ? 0
              : 1);
  }
  int status;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_EQ(WEXITSTATUS(status), 0);
  bool saw = false;
  while (!saw) {
    ASSERT_OK_AND_ASSIGN(absl::optional<WatchEvent> e, watcher->Next(absl::Seconds(5)));
    ASSERT_TRUE(e.has_value());
    saw = e->path == P({"R", 0, "Sub", 1});
  }
}

TEST(LmdbMapTest, GrowsThenFailsClearlyWithoutCorruption) {
  std::string dir = FreshDir("mapfull");
  ASSERT_OK_AND_ASSIGN(auto store, LmdbStore::Create({.directory = dir,
                                                      .initial_map_size = 1 << 20,
                                                      .max_map_size = 4 << 20}));
  size_t initial = store->map_size();
  std::string big(300 * 1024, 'x');
  int written = 0;
  absl::Status last;
  for (; written < 100; ++written) {
    last = store->Put(P({"Big", written}), big, kAnyGeneration).status();
    if (!last.ok()) break;
  }
  EXPECT_THAT(last,
              StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("map is full")));
  EXPECT_GT(store->map_size(), initial);
  EXPECT_GT(written, 3);
  EXPECT_THAT(store->Get(P({"Big", written})), StatusIs(absl::StatusCode::kNotFound));
  for (int i = 0; i < written; ++i) {
    ASSERT_OK_AND_ASSIGN(StoreEntry e, store->Get(P({"Big", i})));
    EXPECT_EQ(e.value, big);
  }
  // Deleting makes room again.
  ASSERT_OK(store->Delete(P({"Big", 0}), kAnyGeneration));
  EXPECT_THAT(store->Put(P({"Small", 1}), "s", kAnyGeneration), IsOk());
}

TEST(LmdbStoreTest, BadDirectoryIsAClearError) {
  EXPECT_THAT(LmdbStore::Create({.directory = ""}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(LmdbStore::Create({.directory = "/proc/no/such/dir"}),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("/proc/no/such/dir")));
}

// --- A store damaged underneath an open LmdbStore (issue 8, item 2) ---

class LmdbDamageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = FreshDir("damage");
    data_ = dir_ + "/data.mdb";
    ASSERT_OK_AND_ASSIGN(store_, LmdbStore::Create({.directory = dir_}));
    // A value far bigger than a page (overflow pages past the first 8 KiB)
    // and a small one holding a sentinel we can find in the file.
    ASSERT_OK(
        store_->Put(P({"Big", 1}), std::string(64 * 1024, 'b'), kAnyGeneration).status());
    ASSERT_OK(store_->Put(P({"Small", 1}), kSentinel, kAnyGeneration).status());
    ASSERT_OK_AND_ASSIGN(watcher_, store_->Watch(KeyPath::Root()));
    intact_ = ReadFileBytes(data_);
    ASSERT_GT(intact_.size(), 16384u);
  }

  // Every operation fails with DataLoss and the live watch reports it too.
  void ExpectDataLossEverywhere(absl::string_view why) {
    EXPECT_THAT(store_->Get(P({"Small", 1})),
                StatusIs(absl::StatusCode::kDataLoss, HasSubstr(why)));
    EXPECT_THAT(store_->Get(P({"Big", 1})), StatusIs(absl::StatusCode::kDataLoss));
    EXPECT_THAT(store_->List(KeyPath::Root(), 10, ""),
                StatusIs(absl::StatusCode::kDataLoss));
    EXPECT_THAT(store_->Put(P({"New", 1}), "x", kAnyGeneration),
                StatusIs(absl::StatusCode::kDataLoss));
    EXPECT_THAT(watcher_->Next(absl::Milliseconds(50)),
                StatusIs(absl::StatusCode::kDataLoss));
  }

  // Restores the file in place; the same store works again.
  void RestoreAndExpectWorking() {
    ASSERT_OK(WriteFileAt(data_, intact_, 0));
    ASSERT_EQ(truncate(data_.c_str(), intact_.size()), 0);
    ASSERT_OK_AND_ASSIGN(StoreEntry e, store_->Get(P({"Small", 1})));
    EXPECT_EQ(e.value, kSentinel);
    ASSERT_OK_AND_ASSIGN(StoreEntry big, store_->Get(P({"Big", 1})));
    EXPECT_EQ(big.value, std::string(64 * 1024, 'b'));
    EXPECT_THAT(watcher_->Next(absl::Milliseconds(50)), IsOk());
  }

  static constexpr char kSentinel[] = "sentinel-7f3a9c1e-record-value";
  std::string dir_, data_, intact_;
  std::unique_ptr<LmdbStore> store_;
  std::unique_ptr<Watcher> watcher_;
};

TEST_F(LmdbDamageTest, TruncatedTo8192UnderAnOpenStoreIsDataLossNotSigbus) {
  ASSERT_EQ(truncate(data_.c_str(), 8192), 0);
  ExpectDataLossEverywhere("truncated");
  // A new process opening it is refused too (certstore CLI: exit 7).
  EXPECT_THAT(LmdbStore::Create({.directory = dir_}),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("truncated")));
  RestoreAndExpectWorking();
}

TEST_F(LmdbDamageTest, EmptiedUnderAnOpenStoreIsDataLossNeverAnEmptyStore) {
  ASSERT_EQ(truncate(data_.c_str(), 0), 0);
  ExpectDataLossEverywhere("empty (0 bytes)");
  EXPECT_THAT(LmdbStore::Create({.directory = dir_}),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("empty (0 bytes)")));
  EXPECT_EQ(ReadFileBytes(data_).size(), 0u) << "opening must not re-initialise the file";
  RestoreAndExpectWorking();
}

TEST_F(LmdbDamageTest, FlippedBytesInADataPageFailTheChecksum) {
  size_t at = intact_.find(kSentinel);
  ASSERT_NE(at, std::string::npos);
  ASSERT_EQ(intact_.find(kSentinel, at + 1), std::string::npos);
  ASSERT_OK(FlipBytes(data_, at + 4, 2));
  EXPECT_THAT(store_->Get(P({"Small", 1})),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("checksum")));
  // The rest of the store is intact and the watch keeps working.
  EXPECT_THAT(store_->Get(P({"Big", 1})), IsOk());
  ASSERT_OK(store_->Put(P({"Other", 1}), "o", kAnyGeneration).status());
  ASSERT_OK_AND_ASSIGN(absl::optional<WatchEvent> e, watcher_->Next(absl::Seconds(5)));
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->path, P({"Other", 1}));
  // A corrupt record refuses a compare-and-set write but can be deleted.
  EXPECT_THAT(store_->Put(P({"Small", 1}), "again", 1),
              StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(store_->Delete(P({"Small", 1}), kAnyGeneration), IsOk());
}

TEST_F(LmdbDamageTest, FlippedBytesInAMetaPageAreDataLoss) {
  // Two bytes of the main database's root page number (MDB_db.md_root).
  ASSERT_OK(FlipBytes(data_, NewestMeta(intact_) + kMetaMainRoot + 4, 2));
  ExpectDataLossEverywhere("meta page");
  EXPECT_THAT(LmdbStore::Create({.directory = dir_}),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("meta page")));
  RestoreAndExpectWorking();
  // Two bytes of the last page number (mm_last_pg).
  ASSERT_OK(FlipBytes(data_, NewestMeta(intact_) + kMetaLastPage + 3, 2));
  ExpectDataLossEverywhere("meta page");
  RestoreAndExpectWorking();
  // The magic of the older meta page: LMDB itself would refuse the next open.
  ASSERT_OK(FlipBytes(data_, OlderMeta(intact_), 2));
  ExpectDataLossEverywhere("bad magic");
  RestoreAndExpectWorking();
}

// The size/meta check is skipped while the file's stat is unchanged since a
// check made well after its last change; damage after such a quiet period
// (a flip in place keeps the size) must still be seen.
TEST_F(LmdbDamageTest, DamageAfterAQuietPeriodIsStillSeen) {
  absl::SleepFor(absl::Milliseconds(250));
  ASSERT_OK(store_->Get(P({"Small", 1})).status());  // Full check, now trusted.
  ASSERT_OK(store_->Get(P({"Small", 1})).status());  // Fast path.
  ASSERT_OK(FlipBytes(data_, NewestMeta(intact_) + kMetaMainRoot + 4, 2));
  ExpectDataLossEverywhere("meta page");
  RestoreAndExpectWorking();
  absl::SleepFor(absl::Milliseconds(250));
  ASSERT_OK(store_->Get(P({"Small", 1})).status());
  ASSERT_EQ(truncate(data_.c_str(), 8192), 0);
  ExpectDataLossEverywhere("truncated");
  RestoreAndExpectWorking();
}

TEST_F(LmdbDamageTest, TruncationBetweenCheckAndReadIsCaughtNotFatal) {
  int hits = 0;
  store_->SetAfterCheckHookForTest([&] {
    if (hits++ == 0) {
      ASSERT_EQ(truncate(data_.c_str(), 8192), 0);
    }
  });
  EXPECT_THAT(store_->Get(P({"Big", 1})),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("SIGBUS caught")));
  store_->SetAfterCheckHookForTest(nullptr);
  EXPECT_THAT(store_->Get(P({"Small", 1})), StatusIs(absl::StatusCode::kDataLoss));
  RestoreAndExpectWorking();
}

// Without the guard, the same window kills the process: the net is what
// keeps it alive, not luck.
void ReadThroughTheWindowUnguarded(const std::string& dir) {
  auto store = LmdbStore::Create({.directory = dir, .catch_sigbus = false});
  if (!store.ok()) _exit(3);
  if (!(*store)->Put(P({"Big", 1}), std::string(64 * 1024, 'b'), kAnyGeneration).ok()) {
    _exit(4);
  }
  const std::string data = dir + "/data.mdb";
  (*store)->SetAfterCheckHookForTest([&] {
    if (truncate(data.c_str(), 8192) != 0) _exit(5);
  });
  (void)(*store)->Get(P({"Big", 1}));
  _exit(0);
}

TEST(LmdbDamageDeathTest, WithoutTheGuardTheWindowIsFatal) {
  EXPECT_EXIT(ReadThroughTheWindowUnguarded(FreshDir("unguarded")), SigbusDeath,
              kSigbusReport);
}

TEST(LmdbFormatTest, ExistingStoreWithoutFormatMarkerIsCorruptNotEmpty) {
  // A plain LMDB environment (what an emptied-and-reinitialised or foreign
  // store looks like): committed, but no certstore format marker.
  std::string dir = FreshDir("nomarker");
  ASSERT_EQ(mkdir(dir.c_str(), 0700), 0);
  MDB_env* env;
  ASSERT_EQ(mdb_env_create(&env), 0);
  ASSERT_EQ(mdb_env_open(env, dir.c_str(), 0, 0600), 0);
  MDB_txn* txn;
  MDB_dbi dbi;
  ASSERT_EQ(mdb_txn_begin(env, nullptr, 0, &txn), 0);
  ASSERT_EQ(mdb_dbi_open(txn, nullptr, 0, &dbi), 0);
  MDB_val k{1, const_cast<char*>("k")}, v{1, const_cast<char*>("v")};
  ASSERT_EQ(mdb_put(txn, dbi, &k, &v, 0), 0);
  ASSERT_EQ(mdb_txn_commit(txn), 0);
  mdb_env_close(env);
  EXPECT_THAT(LmdbStore::Create({.directory = dir}),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("format marker")));
}

TEST(LmdbFormatTest, NeverCommittedDataFileIsCreatedAfresh) {
  // LMDB's initial meta pages and nothing else: creation was interrupted.
  std::string dir = FreshDir("fresh");
  ASSERT_EQ(mkdir(dir.c_str(), 0700), 0);
  MDB_env* env;
  ASSERT_EQ(mdb_env_create(&env), 0);
  ASSERT_EQ(mdb_env_open(env, dir.c_str(), 0, 0600), 0);
  mdb_env_close(env);
  ASSERT_OK_AND_ASSIGN(auto store, LmdbStore::Create({.directory = dir}));
  EXPECT_THAT(store->Put(P({"A", 1}), "a", kMustNotExist), IsOk());
}

TEST(LmdbFormatTest, RootPathIsInvalidInputNotUnavailable) {
  ASSERT_OK_AND_ASSIGN(auto store, LmdbStore::Create({.directory = FreshDir("root")}));
  EXPECT_THAT(store->Get(KeyPath::Root()), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(store->Delete(KeyPath::Root(), kAnyGeneration),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace sslshim::certstore::testing
