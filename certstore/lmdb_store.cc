#include "certstore/lmdb_store.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include <deque>
#include <mutex>
#include <thread>
#include <utility>

#include "absl/base/internal/endian.h"
#include "absl/strings/str_cat.h"
#include "certstore/store_util.h"

namespace sslshim::certstore {
namespace {

constexpr size_t kGenBytes = 8;

MDB_val Val(absl::string_view s) {
  return MDB_val{s.size(), const_cast<char*>(s.data())};
}
absl::string_view View(const MDB_val& v) {
  return absl::string_view(static_cast<const char*>(v.mv_data), v.mv_size);
}

std::string SeqKey(uint64_t seq) {
  std::string k(8, '\0');
  absl::big_endian::Store64(k.data(), seq);
  return k;
}

std::string EncodeValue(uint64_t generation, absl::string_view value) {
  std::string out(kGenBytes, '\0');
  absl::little_endian::Store64(out.data(), generation);
  out.append(value.data(), value.size());
  return out;
}

// Marker for "the map is full; grow and retry".
bool IsMapFull(const absl::Status& s) {
  return s.code() == absl::StatusCode::kResourceExhausted;
}

}  // namespace

// Polls the change log; see the header comment.
class LmdbStore::LmdbWatcher : public Watcher {
 public:
  LmdbWatcher(LmdbStore* store, KeyPath prefix, uint64_t next_seq)
      : store_(store), prefix_(std::move(prefix)), next_seq_(next_seq) {}

  absl::StatusOr<absl::optional<WatchEvent>> Next(absl::Duration timeout) override {
    absl::Time deadline = absl::Now() + timeout;
    while (true) {
      if (!pending_.empty()) {
        WatchEvent e = std::move(pending_.front());
        pending_.pop_front();
        return e;
      }
      absl::Status s = Poll();
      if (!s.ok()) return s;
      if (!pending_.empty()) continue;
      absl::Duration left = deadline - absl::Now();
      if (left <= absl::ZeroDuration()) return absl::nullopt;
      absl::SleepFor(std::min(left, store_->options_.watch_poll_interval));
    }
  }

 private:
  absl::Status Poll() {
    return store_->RunRead([this](MDB_txn* txn) -> absl::Status {
      MDB_cursor* cur;
      int rc = mdb_cursor_open(txn, store_->log_, &cur);
      if (rc) return store_->Error("open log cursor", rc);
      MDB_val k, v;
      rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
      if (rc == 0) {
        uint64_t first = absl::big_endian::Load64(k.mv_data);
        if (first > next_seq_) {
          pending_.push_back(WatchEvent{WatchEvent::Type::kResync, {}, 0});
          next_seq_ = first;
        }
        std::string start = SeqKey(next_seq_);
        k = Val(start);
        rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
        for (int n = 0; rc == 0 && n < 1000; ++n) {
          next_seq_ = absl::big_endian::Load64(k.mv_data) + 1;
          absl::string_view entry = View(v);
          if (entry.size() < 1 + kGenBytes) {
            mdb_cursor_close(cur);
            return absl::DataLossError("lmdb change log entry truncated");
          }
          absl::StatusOr<KeyPath> path =
              ParseStoredPath(entry.substr(1 + kGenBytes), store_->Describe());
          if (!path.ok()) {
            mdb_cursor_close(cur);
            return path.status();
          }
          if (path->IsUnder(prefix_)) {
            pending_.push_back(WatchEvent{
                entry[0] == 'p' ? WatchEvent::Type::kPut : WatchEvent::Type::kDelete,
                *std::move(path), absl::little_endian::Load64(entry.data() + 1)});
          }
          rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
        }
      }
      mdb_cursor_close(cur);
      if (rc != 0 && rc != MDB_NOTFOUND) return store_->Error("read log", rc);
      return absl::OkStatus();
    });
  }

  LmdbStore* const store_;
  const KeyPath prefix_;
  uint64_t next_seq_;
  std::deque<WatchEvent> pending_;
};

LmdbStore::LmdbStore(LmdbStoreOptions options) : options_(std::move(options)) {}

LmdbStore::~LmdbStore() {
  if (env_ != nullptr) mdb_env_close(env_);
}

absl::Status LmdbStore::Error(absl::string_view op, int rc) const {
  std::string msg = absl::StrCat(Describe(), ": ", op, ": ", mdb_strerror(rc));
  switch (rc) {
    case MDB_MAP_FULL:
      return absl::ResourceExhaustedError(msg);
    case EACCES:
    case EPERM:
      return absl::PermissionDeniedError(msg);
    case MDB_CORRUPTED:
    case MDB_PAGE_NOTFOUND:
    case MDB_INVALID:
      return absl::DataLossError(msg);
    default:
      return absl::UnavailableError(msg);
  }
}

absl::StatusOr<std::unique_ptr<LmdbStore>> LmdbStore::Create(LmdbStoreOptions options) {
  if (options.directory.empty()) {
    return absl::InvalidArgumentError("lmdb store needs a directory");
  }
  if (mkdir(options.directory.c_str(), 0700) != 0 && errno != EEXIST) {
    return absl::UnavailableError(absl::StrCat(
        "lmdb:", options.directory, ": cannot create directory: ", strerror(errno)));
  }
  std::unique_ptr<LmdbStore> store(new LmdbStore(std::move(options)));
  const LmdbStoreOptions& o = store->options_;
  int rc = mdb_env_create(&store->env_);
  if (rc) return store->Error("create env", rc);
  mdb_env_set_maxdbs(store->env_, 2);
  mdb_env_set_maxreaders(store->env_, o.max_readers);
  mdb_env_set_mapsize(store->env_, o.initial_map_size);
  rc = mdb_env_open(store->env_, o.directory.c_str(),
                    MDB_NOTLS | (o.sync ? 0 : MDB_NOSYNC), 0600);
  if (rc) return store->Error("open env", rc);
  int dead = 0;
  mdb_reader_check(store->env_, &dead);  // Clear slots of killed readers.
  MDB_envinfo info;
  mdb_env_info(store->env_, &info);
  store->map_size_ = info.me_mapsize;
  absl::Status s = store->RunWrite([&](MDB_txn* txn) -> absl::Status {
    int rc = mdb_dbi_open(txn, "records", MDB_CREATE, &store->records_);
    if (rc == 0) rc = mdb_dbi_open(txn, "log", MDB_CREATE, &store->log_);
    return rc ? store->Error("open databases", rc) : absl::OkStatus();
  });
  if (!s.ok()) return s;
  return store;
}

size_t LmdbStore::map_size() const {
  std::shared_lock<std::shared_mutex> lock(resize_mu_);
  return map_size_;
}

absl::Status LmdbStore::RunRead(const std::function<absl::Status(MDB_txn*)>& body) {
  while (true) {
    std::shared_lock<std::shared_mutex> lock(resize_mu_);
    MDB_txn* txn;
    int rc = mdb_txn_begin(env_, nullptr, MDB_RDONLY, &txn);
    if (rc == MDB_MAP_RESIZED) {
      lock.unlock();
      std::unique_lock<std::shared_mutex> excl(resize_mu_);
      mdb_env_set_mapsize(env_, 0);  // Adopt another process's new size.
      MDB_envinfo info;
      mdb_env_info(env_, &info);
      map_size_ = info.me_mapsize;
      continue;
    }
    if (rc) return Error("begin read", rc);
    absl::Status s = body(txn);
    mdb_txn_abort(txn);
    return s;
  }
}

absl::Status LmdbStore::RunWrite(const std::function<absl::Status(MDB_txn*)>& body) {
  while (true) {
    std::shared_lock<std::shared_mutex> lock(resize_mu_);
    const size_t seen = map_size_;
    MDB_txn* txn;
    int rc = mdb_txn_begin(env_, nullptr, 0, &txn);
    absl::Status s;
    if (rc == MDB_MAP_RESIZED) {
      s = Error("begin write", MDB_MAP_FULL);  // Re-read size below.
    } else if (rc) {
      return Error("begin write", rc);
    } else {
      s = body(txn);
      if (s.ok()) {
        rc = mdb_txn_commit(txn);
        if (rc == 0) return absl::OkStatus();
        s = Error("commit", rc);
      } else {
        mdb_txn_abort(txn);
      }
    }
    if (!IsMapFull(s)) return s;
    lock.unlock();
    std::unique_lock<std::shared_mutex> excl(resize_mu_);
    if (map_size_ != seen) continue;  // Another thread grew it meanwhile.
    MDB_envinfo info;
    mdb_env_set_mapsize(env_, 0);
    mdb_env_info(env_, &info);
    size_t before = map_size_;
    map_size_ = info.me_mapsize;
    if (map_size_ > before) continue;  // Another process grew it.
    if (map_size_ >= options_.max_map_size) {
      return absl::ResourceExhaustedError(
          absl::StrCat(Describe(), ": LMDB map is full at ", map_size_,
                       " bytes (max_map_size); nothing was written. Raise max_map_size "
                       "or delete records"));
    }
    size_t grown = std::min(map_size_ * 2, options_.max_map_size);
    rc = mdb_env_set_mapsize(env_, grown);
    if (rc) return Error("grow map", rc);
    map_size_ = grown;
  }
}

absl::Status LmdbStore::AppendLog(MDB_txn* txn, char op, uint64_t generation,
                                  const std::string& path) {
  MDB_cursor* cur;
  int rc = mdb_cursor_open(txn, log_, &cur);
  if (rc) return Error("open log cursor", rc);
  MDB_val k, v;
  uint64_t first = 0, last = 0;
  rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
  if (rc == 0) {
    last = absl::big_endian::Load64(k.mv_data);
    rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
    first = absl::big_endian::Load64(k.mv_data);
  }
  uint64_t seq = last + 1;
  // Trim: keep the newest log_retention entries (amortised, a few per write).
  for (int n = 0; rc == 0 && n < 4 && first + options_.log_retention <= seq; ++n) {
    rc = mdb_cursor_del(cur, 0);
    if (rc == 0) rc = mdb_cursor_get(cur, &k, &v, MDB_GET_CURRENT);
    if (rc == 0) first = absl::big_endian::Load64(k.mv_data);
  }
  mdb_cursor_close(cur);
  if (rc != 0 && rc != MDB_NOTFOUND) return Error("trim log", rc);
  std::string entry(1, op);
  entry += EncodeValue(generation, path);
  std::string key = SeqKey(seq);
  MDB_val kk = Val(key), vv = Val(entry);
  rc = mdb_put(txn, log_, &kk, &vv, 0);
  return rc ? Error("append log", rc) : absl::OkStatus();
}

absl::StatusOr<StoreEntry> LmdbStore::Get(const KeyPath& path) {
  StoreEntry entry;
  absl::Status s = RunRead([&](MDB_txn* txn) -> absl::Status {
    MDB_val k = Val(path.ToString()), v;
    int rc = mdb_get(txn, records_, &k, &v);
    if (rc == MDB_NOTFOUND) return NotFoundError(path, Describe());
    if (rc) return Error("get", rc);
    if (v.mv_size < kGenBytes) {
      return absl::DataLossError(absl::StrCat(Describe(), ": stored value of ",
                                              path.ToString(), " is truncated"));
    }
    entry.generation = absl::little_endian::Load64(v.mv_data);
    entry.value = std::string(View(v).substr(kGenBytes));
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return entry;
}

absl::StatusOr<uint64_t> LmdbStore::Put(const KeyPath& path, absl::string_view value,
                                        uint64_t expected_generation) {
  absl::Status s = CheckWritablePath(path);
  if (!s.ok()) return s;
  uint64_t generation = 0;
  s = RunWrite([&](MDB_txn* txn) -> absl::Status {
    MDB_val k = Val(path.ToString()), v;
    int rc = mdb_get(txn, records_, &k, &v);
    if (rc != 0 && rc != MDB_NOTFOUND) return Error("get", rc);
    uint64_t current =
        rc == 0 && v.mv_size >= kGenBytes ? absl::little_endian::Load64(v.mv_data) : 0;
    if (!GenerationMatches(expected_generation, current)) {
      return ConflictError(path, expected_generation, current);
    }
    generation = current + 1;
    std::string stored = EncodeValue(generation, value);
    MDB_val sv = Val(stored);
    rc = mdb_put(txn, records_, &k, &sv, 0);
    if (rc) return Error("put", rc);
    return AppendLog(txn, 'p', generation, path.ToString());
  });
  if (!s.ok()) return s;
  return generation;
}

absl::Status LmdbStore::Delete(const KeyPath& path, uint64_t expected_generation) {
  return RunWrite([&](MDB_txn* txn) -> absl::Status {
    MDB_val k = Val(path.ToString()), v;
    int rc = mdb_get(txn, records_, &k, &v);
    if (rc == MDB_NOTFOUND) return NotFoundError(path, Describe());
    if (rc) return Error("get", rc);
    uint64_t current =
        v.mv_size >= kGenBytes ? absl::little_endian::Load64(v.mv_data) : 0;
    if (!GenerationMatches(expected_generation, current)) {
      return ConflictError(path, expected_generation, current);
    }
    rc = mdb_del(txn, records_, &k, nullptr);
    if (rc) return Error("delete", rc);
    return AppendLog(txn, 'd', 0, path.ToString());
  });
}

absl::StatusOr<ListPage> LmdbStore::List(const KeyPath& prefix, size_t limit,
                                         absl::string_view cursor) {
  absl::Status s = CheckListArgs(prefix, limit, cursor);
  if (!s.ok()) return s;
  KeyRange range = DescendantRange(prefix);
  ListPageBuilder page(limit, Describe());
  s = RunRead([&](MDB_txn* txn) -> absl::Status {
    MDB_cursor* cur;
    int rc = mdb_cursor_open(txn, records_, &cur);
    if (rc) return Error("open cursor", rc);
    std::string start = cursor.empty() ? range.begin : std::string(cursor);
    MDB_val k = Val(start), v;
    rc = start.empty() ? mdb_cursor_get(cur, &k, &v, MDB_FIRST)
                       : mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    if (rc == 0 && !cursor.empty() && View(k) == cursor) {
      rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    for (; rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
      if (!range.end.empty() && View(k) >= range.end) break;
      if (!page.Add(View(k))) break;
    }
    mdb_cursor_close(cur);
    if (rc != 0 && rc != MDB_NOTFOUND) return Error("list", rc);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return std::move(page).Finish();
}

absl::StatusOr<std::unique_ptr<Watcher>> LmdbStore::Watch(const KeyPath& prefix) {
  uint64_t next = 1;
  absl::Status s = RunRead([&](MDB_txn* txn) -> absl::Status {
    MDB_cursor* cur;
    int rc = mdb_cursor_open(txn, log_, &cur);
    if (rc) return Error("open log cursor", rc);
    MDB_val k, v;
    rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
    if (rc == 0) next = absl::big_endian::Load64(k.mv_data) + 1;
    mdb_cursor_close(cur);
    if (rc != 0 && rc != MDB_NOTFOUND) return Error("read log", rc);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return std::unique_ptr<Watcher>(new LmdbWatcher(this, prefix, next));
}

absl::Status LmdbStore::RawWrite(const KeyPath& path, absl::string_view value) {
  return RunWrite([&](MDB_txn* txn) -> absl::Status {
    std::string stored = EncodeValue(1, value);
    MDB_val k = Val(path.ToString()), v = Val(stored);
    int rc = mdb_put(txn, records_, &k, &v, 0);
    return rc ? Error("put", rc) : absl::OkStatus();
  });
}

}  // namespace sslshim::certstore
