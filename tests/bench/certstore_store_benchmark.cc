// Store get/put latency and throughput for the LMDB and Redis backends, each
// measured against the raw library doing the same operation in the same run
// (LMDB mdb_get/mdb_put, hiredis GET/SET), interleaved op by op so both see
// the same machine state. Counters per benchmark:
//   store_ns, raw_ns     mean latency per operation
//   store_ops, raw_ops   single-threaded throughput (ops/s)
//   ratio                store_ns / raw_ns (1.0 = no overhead)
// The reported Time column is the store's latency (manual time).
//
//   bazel run -c opt //tests/bench:certstore_store_benchmark

#include <hiredis/hiredis.h>
#include <lmdb.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "certstore/lmdb_store.h"
#include "certstore/redis_store.h"
#include "testing/redis_server.h"

namespace sslshim::certstore {
namespace {

constexpr int kKeys = 1000;
constexpr size_t kValueBytes = 2048;  // About one cert + sealed key record.

using Clock = std::chrono::steady_clock;

std::string Value(int i) { return std::string(kValueBytes, 'a' + i % 26); }

KeyPath PathFor(int i) { return *KeyPath::Of({"Bench", "tenant", "Cert", i}); }

std::string TempDir(absl::string_view name) {
  const char* base = getenv("TEST_TMPDIR");
  std::string dir =
      absl::StrCat(base ? base : "/tmp", "/certstore_bench_", name, "_", getpid());
  std::string cmd = absl::StrCat("rm -rf '", dir, "'");
  if (system(cmd.c_str()) != 0) abort();
  return dir;
}

// Accumulates the two sides and reports the counters.
struct Pair {
  double store_ns = 0, raw_ns = 0;
  int64_t n = 0;

  template <typename StoreOp, typename RawOp>
  void Step(benchmark::State& state, StoreOp store_op, RawOp raw_op) {
    auto t0 = Clock::now();
    store_op();
    auto t1 = Clock::now();
    raw_op();
    auto t2 = Clock::now();
    double s = std::chrono::duration<double, std::nano>(t1 - t0).count();
    store_ns += s;
    raw_ns += std::chrono::duration<double, std::nano>(t2 - t1).count();
    ++n;
    state.SetIterationTime(s * 1e-9);
  }

  void Report(benchmark::State& state) {
    if (n == 0) return;
    double s = store_ns / n, r = raw_ns / n;
    state.counters["store_ns"] = s;
    state.counters["raw_ns"] = r;
    state.counters["store_ops"] = 1e9 / s;
    state.counters["raw_ops"] = 1e9 / r;
    state.counters["ratio"] = s / r;
  }
};

// Runs the benchmark loop over keys 0..kKeys-1, timing store_op(k) and
// raw_op(k) back to back, and reports the counters.
template <typename StoreOp, typename RawOp>
void RunPaired(benchmark::State& state, StoreOp store_op, RawOp raw_op) {
  Pair pair;
  int i = 0;
  for (auto _ : state) {
    int k = i++ % kKeys;
    pair.Step(
        state, [&] { store_op(k); }, [&] { raw_op(k); });
  }
  pair.Report(state);
}

void Check(bool ok, const char* what) {
  if (!ok) {
    fprintf(stderr, "benchmark setup failed: %s\n", what);
    abort();
  }
}

// ---- LMDB ------------------------------------------------------------------

struct RawLmdb {
  MDB_env* env = nullptr;
  MDB_dbi dbi = 0;
  explicit RawLmdb(const std::string& dir, bool sync) {
    Check(mkdir(dir.c_str(), 0700) == 0, "mkdir");
    Check(mdb_env_create(&env) == 0, "env");
    mdb_env_set_mapsize(env, 64 << 20);
    Check(mdb_env_open(env, dir.c_str(), MDB_NOTLS | (sync ? 0 : MDB_NOSYNC), 0600) == 0,
          "open");
    MDB_txn* txn;
    Check(mdb_txn_begin(env, nullptr, 0, &txn) == 0, "txn");
    Check(mdb_dbi_open(txn, nullptr, 0, &dbi) == 0, "dbi");
    Check(mdb_txn_commit(txn) == 0, "commit");
  }
  ~RawLmdb() { mdb_env_close(env); }
  void Put(const std::string& key, const std::string& value) {
    MDB_txn* txn;
    mdb_txn_begin(env, nullptr, 0, &txn);
    MDB_val k{key.size(), const_cast<char*>(key.data())};
    MDB_val v{value.size(), const_cast<char*>(value.data())};
    mdb_put(txn, dbi, &k, &v, 0);
    Check(mdb_txn_commit(txn) == 0, "raw put");
  }
  std::string Get(const std::string& key) {
    MDB_txn* txn;
    mdb_txn_begin(env, nullptr, MDB_RDONLY, &txn);
    MDB_val k{key.size(), const_cast<char*>(key.data())}, v;
    Check(mdb_get(txn, dbi, &k, &v) == 0, "raw get");
    std::string out(static_cast<char*>(v.mv_data), v.mv_size);
    mdb_txn_abort(txn);
    return out;
  }
};

void BM_LmdbGet(benchmark::State& state) {
  auto store = LmdbStore::Create({.directory = TempDir("lmdb_store")});
  Check(store.ok(), "LmdbStore");
  RawLmdb raw(TempDir("lmdb_raw"), true);
  std::vector<std::string> keys;
  for (int i = 0; i < kKeys; ++i) {
    keys.push_back(PathFor(i).ToString());
    Check((*store)->Put(PathFor(i), Value(i), kAnyGeneration).ok(), "seed");
    raw.Put(keys.back(), Value(i));
  }
  RunPaired(
      state, [&](int k) { benchmark::DoNotOptimize((*store)->Get(PathFor(k))); },
      [&](int k) { benchmark::DoNotOptimize(raw.Get(keys[k])); });
}
BENCHMARK(BM_LmdbGet)->UseManualTime();

void BM_LmdbPut(benchmark::State& state) {
  const bool sync = state.range(0) != 0;
  auto store = LmdbStore::Create({.directory = TempDir("lmdb_store_put"), .sync = sync});
  Check(store.ok(), "LmdbStore");
  RawLmdb raw(TempDir("lmdb_raw_put"), sync);
  std::vector<std::string> keys;
  for (int i = 0; i < kKeys; ++i) keys.push_back(PathFor(i).ToString());
  std::string value = Value(1);
  RunPaired(
      state,
      [&](int k) { Check((*store)->Put(PathFor(k), value, kAnyGeneration).ok(), "put"); },
      [&](int k) { raw.Put(keys[k], value); });
}
BENCHMARK(BM_LmdbPut)->Arg(1)->Arg(0)->ArgName("sync")->UseManualTime();

// ---- Redis -----------------------------------------------------------------

struct RedisFixture {
  std::unique_ptr<testing::RedisServer> server;
  std::unique_ptr<RedisStore> store;
  redisContext* raw = nullptr;
  RedisFixture() {
    auto s = testing::RedisServer::Start();
    Check(s.ok(), "redis-server");
    server = *std::move(s);
    auto st = RedisStore::Create({.port = server->port()});
    Check(st.ok(), "RedisStore");
    store = *std::move(st);
    raw = redisConnect("127.0.0.1", server->port());
    Check(raw != nullptr && raw->err == 0, "raw connect");
  }
  ~RedisFixture() { redisFree(raw); }
  void RawSet(const std::string& key, const std::string& value) {
    const char* argv[] = {"SET", key.data(), value.data()};
    size_t lens[] = {3, key.size(), value.size()};
    redisReply* r = static_cast<redisReply*>(redisCommandArgv(raw, 3, argv, lens));
    Check(r != nullptr && r->type == REDIS_REPLY_STATUS, "SET");
    freeReplyObject(r);
  }
  std::string RawGet(const std::string& key) {
    const char* argv[] = {"GET", key.data()};
    size_t lens[] = {3, key.size()};
    redisReply* r = static_cast<redisReply*>(redisCommandArgv(raw, 2, argv, lens));
    Check(r != nullptr && r->type == REDIS_REPLY_STRING, "GET");
    std::string out(r->str, r->len);
    freeReplyObject(r);
    return out;
  }
};

void BM_RedisGet(benchmark::State& state) {
  RedisFixture f;
  std::vector<std::string> keys;
  for (int i = 0; i < kKeys; ++i) {
    keys.push_back("raw/" + PathFor(i).ToString());
    Check(f.store->Put(PathFor(i), Value(i), kAnyGeneration).ok(), "seed");
    f.RawSet(keys.back(), Value(i));
  }
  RunPaired(
      state, [&](int k) { benchmark::DoNotOptimize(f.store->Get(PathFor(k))); },
      [&](int k) { benchmark::DoNotOptimize(f.RawGet(keys[k])); });
}
BENCHMARK(BM_RedisGet)->UseManualTime();

void BM_RedisPut(benchmark::State& state) {
  RedisFixture f;
  std::vector<std::string> keys;
  for (int i = 0; i < kKeys; ++i) keys.push_back("raw/" + PathFor(i).ToString());
  std::string value = Value(1);
  RunPaired(
      state,
      [&](int k) { Check(f.store->Put(PathFor(k), value, kAnyGeneration).ok(), "put"); },
      [&](int k) { f.RawSet(keys[k], value); });
}
BENCHMARK(BM_RedisPut)->UseManualTime();

}  // namespace
}  // namespace sslshim::certstore

BENCHMARK_MAIN();
