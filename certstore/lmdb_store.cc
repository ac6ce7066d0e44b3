#include "certstore/lmdb_store.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <deque>
#include <mutex>
#include <utility>

#include "absl/base/internal/endian.h"
#include "absl/cleanup/cleanup.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "certstore/crc32c.h"
#include "certstore/lmdb_file_check.h"
#include "certstore/store_util.h"

namespace sslshim::certstore {
namespace {

constexpr size_t kGenBytes = 8;
constexpr size_t kSeqBytes = 8;
constexpr size_t kSumBytes = 4;
constexpr char kMetaDb[] = "sslshim";
constexpr absl::string_view kFormatKey = "format";
// The format marker; "/2": values and log entries carry checksums.
constexpr absl::string_view kFormat = "sslshim-certstore-lmdb/2";
constexpr absl::string_view kFormatPrefix = "sslshim-certstore-lmdb/";

MDB_val Val(absl::string_view s) {
  return MDB_val{s.size(), const_cast<char*>(s.data())};
}

std::string SeqKey(uint64_t seq) {
  std::string k(kSeqBytes, '\0');
  absl::big_endian::Store64(k.data(), seq);
  return k;
}

// Checksum() binds `payload` to `key`: CRC-32C(label | len(key) | key |
// payload), 4 bytes little endian. Cheap enough for every read; see
// crc32c.h for what it does and does not defend against.
std::string Checksum(absl::string_view key, absl::string_view payload) {
  static constexpr char kLabel[] = "sslshim-certstore-lmdb-v2";
  char len[8];
  absl::little_endian::Store64(len, key.size());
  uint32_t crc = Crc32cExtend(0, absl::string_view(kLabel, sizeof(kLabel)));
  crc = Crc32cExtend(crc, absl::string_view(len, sizeof(len)));
  crc = Crc32cExtend(crc, key);
  crc = Crc32cExtend(crc, payload);
  std::string out(kSumBytes, '\0');
  absl::little_endian::Store32(out.data(), crc);
  return out;
}

// Encode() is `head` (8 bytes of `number`, little endian, after an optional
// op byte) | `tail` | Checksum(key, all before).
std::string Encode(absl::string_view key, absl::string_view op, uint64_t number,
                   absl::string_view tail) {
  std::string out(op);
  out.resize(op.size() + kGenBytes);
  absl::little_endian::Store64(out.data() + op.size(), number);
  out.append(tail.data(), tail.size());
  out += Checksum(key, out);
  return out;
}

// Marker for "the map is full; grow and retry".
bool IsMapFull(const absl::Status& s) {
  return s.code() == absl::StatusCode::kResourceExhausted;
}

absl::Status NoMarker(absl::string_view store, absl::string_view what) {
  return absl::DataLossError(absl::StrCat(
      store, ": data.mdb has ", what,
      ": the store was emptied or damaged, or it is not a certstore store (stores "
      "written before format markers must be re-imported); restore it from a backup"));
}

}  // namespace

// An open transaction and the part of the map its pointers may lie in.
struct LmdbStore::Txn {
  const LmdbStore* store = nullptr;
  MDB_txn* txn = nullptr;
  const char* map_begin = nullptr;
  const char* map_end = nullptr;
  mutable const char* file_end = nullptr;  // map_begin + the checked size.

  // Checked() returns the bytes of `v` when they lie inside the checked file
  // (or outside the map: a write transaction's own dirty page), else
  // DataLoss: damaged LMDB node sizes must not send a copy past the file.
  absl::StatusOr<absl::string_view> Checked(const MDB_val& v,
                                            absl::string_view what) const {
    const char* p = static_cast<const char*>(v.mv_data);
    const bool in_map = p >= map_begin && p < map_end;
    auto outside = [&] {
      return p >= file_end || v.mv_size > static_cast<size_t>(file_end - p);
    };
    if (in_map && outside()) {
      // A commit that finished while this transaction waited to begin
      // (writers queue) may have grown the file: look at its size again.
      struct stat st;
      if (fstat(store->data_fd_, &st) == 0) {
        file_end = map_begin + std::min<uint64_t>(static_cast<uint64_t>(st.st_size),
                                                  map_end - map_begin);
      }
    }
    if ((in_map && outside()) || (p == nullptr && v.mv_size != 0)) {
      return absl::DataLossError(absl::StrCat(store->Describe(), ": ", what,
                                              " points outside data.mdb (damaged)"));
    }
    return absl::string_view(p, v.mv_size);
  }

  // Opened() checks `v` (stored under `key`) against its checksum and
  // returns what precedes the checksum.
  absl::StatusOr<absl::string_view> Opened(absl::string_view key, const MDB_val& v,
                                           absl::string_view what) const {
    absl::StatusOr<absl::string_view> bytes = Checked(v, what);
    if (!bytes.ok()) return bytes;
    if (bytes->size() < kGenBytes + kSumBytes ||
        Checksum(key, bytes->substr(0, bytes->size() - kSumBytes)) !=
            bytes->substr(bytes->size() - kSumBytes)) {
      return absl::DataLossError(absl::StrCat(store->Describe(), ": ", what,
                                              " fails its checksum (corrupt bytes)"));
    }
    return bytes->substr(0, bytes->size() - kSumBytes);
  }

  // Seq() reads a change-log key.
  absl::StatusOr<uint64_t> Seq(const MDB_val& k) const {
    absl::StatusOr<absl::string_view> key = Checked(k, "change log key");
    if (!key.ok()) return key.status();
    if (key->size() != kSeqBytes) {
      return absl::DataLossError(
          absl::StrCat(store->Describe(), ": change log key is damaged"));
    }
    return absl::big_endian::Load64(key->data());
  }
};

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
    return store_->RunRead([this](const Txn& t) -> absl::Status {
      MDB_cursor* cur;
      int rc = mdb_cursor_open(t.txn, store_->log_, &cur);
      if (rc) return store_->Error("open log cursor", rc);
      absl::Cleanup close = [cur] { mdb_cursor_close(cur); };
      MDB_val k, v;
      rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
      if (rc == 0) {
        absl::StatusOr<uint64_t> first = t.Seq(k);
        if (!first.ok()) return first.status();
        if (*first > next_seq_) {
          pending_.push_back(WatchEvent{WatchEvent::Type::kResync, {}, 0});
          next_seq_ = *first;
        }
        std::string start = SeqKey(next_seq_);
        k = Val(start);
        rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
        for (int n = 0; rc == 0 && n < 1000; ++n) {
          absl::StatusOr<uint64_t> seq = t.Seq(k);
          if (!seq.ok()) return seq.status();
          next_seq_ = *seq + 1;
          absl::StatusOr<absl::string_view> entry =
              t.Opened(SeqKey(*seq), v, absl::StrCat("change log entry ", *seq));
          if (!entry.ok()) return entry.status();
          if (entry->size() < 1 + kGenBytes) {
            return absl::DataLossError("lmdb change log entry truncated");
          }
          absl::StatusOr<KeyPath> path =
              ParseStoredPath(entry->substr(1 + kGenBytes), store_->Describe());
          if (!path.ok()) return path.status();
          if (path->IsUnder(prefix_)) {
            pending_.push_back(WatchEvent{
                (*entry)[0] == 'p' ? WatchEvent::Type::kPut : WatchEvent::Type::kDelete,
                *std::move(path), absl::little_endian::Load64(entry->data() + 1)});
          }
          rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
        }
      }
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
  SigbusGuard::Unregister(guard_);  // Before the map goes away.
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
    case MDB_BAD_VALSIZE:
      return absl::InvalidArgumentError(msg);
    case MDB_CORRUPTED:
    case MDB_PAGE_NOTFOUND:
    case MDB_INVALID:
    case MDB_VERSION_MISMATCH:
      return absl::DataLossError(msg);
    default:
      return absl::UnavailableError(msg);
  }
}

absl::StatusOr<std::unique_ptr<LmdbStore>> LmdbStore::Create(LmdbStoreOptions options) {
  if (options.directory.empty()) {
    return absl::InvalidArgumentError("lmdb store needs a directory");
  }
  const std::string name = "lmdb:" + options.directory;
  if (mkdir(options.directory.c_str(), 0700) != 0 && errno != EEXIST) {
    return absl::UnavailableError(
        absl::StrCat(name, ": cannot create directory: ", strerror(errno)));
  }
  // Serialise creation across processes: "no data.mdb yet" must not race
  // with another process's half-created store.
  int dir_fd = open(options.directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0) {
    return absl::UnavailableError(
        absl::StrCat(name, ": cannot open directory: ", strerror(errno)));
  }
  absl::Cleanup close_dir = [dir_fd] { close(dir_fd); };  // Releases the lock.
  // A filesystem without flock() (ENOLCK, EOPNOTSUPP) only loses this guard
  // against a concurrent first creation.
  while (flock(dir_fd, LOCK_EX) != 0 && errno == EINTR) {
  }
  const std::string data = options.directory + "/data.mdb";
  bool brand_new = false;
  int fd = open(data.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == EACCES || errno == EPERM) {
      return absl::PermissionDeniedError(
          absl::StrCat(name, ": cannot read data.mdb: ", strerror(errno)));
    }
    if (errno != ENOENT) {
      return absl::UnavailableError(
          absl::StrCat(name, ": cannot open data.mdb: ", strerror(errno)));
    }
    brand_new = true;
  } else {
    absl::StatusOr<LmdbFileState> st = CheckLmdbDataFile(fd, name + "/data.mdb");
    close(fd);
    if (!st.ok()) return st.status();
    brand_new = st->never_committed();
  }
  std::unique_ptr<LmdbStore> store(new LmdbStore(std::move(options)));
  absl::Status s = store->OpenEnv(brand_new);
  if (!s.ok()) return s;
  return store;
}

absl::Status LmdbStore::OpenEnv(bool brand_new) {
  const LmdbStoreOptions& o = options_;
  int rc = mdb_env_create(&env_);
  if (rc) {
    env_ = nullptr;
    return Error("create env", rc);
  }
  mdb_env_set_maxdbs(env_, 3);
  mdb_env_set_maxreaders(env_, o.max_readers);
  mdb_env_set_mapsize(env_, o.initial_map_size);
  rc = mdb_env_open(env_, o.directory.c_str(), MDB_NOTLS | (o.sync ? 0 : MDB_NOSYNC),
                    0600);
  if (rc) return Error("open env", rc);
  int dead = 0;
  mdb_reader_check(env_, &dead);  // Clear slots of killed readers.
  rc = mdb_env_get_fd(env_, &data_fd_);
  if (rc) return Error("get data file descriptor", rc);
  data_name_ = absl::StrCat(Describe(), "/data.mdb");
  absl::StatusOr<LmdbFileState> file = CheckLmdbDataFile(data_fd_, data_name_);
  if (!file.ok()) return file.status();
  page_size_ = file->page_size;
  MDB_envinfo info;
  mdb_env_info(env_, &info);
  map_size_ = info.me_mapsize;
  // LMDB does not say where it mapped the file (me_mapaddr is the fixed
  // address of MDB_FIXEDMAP, null here): find it in /proc/self/maps.
  map_ = static_cast<const char*>(
      SigbusGuard::FindFileMapping(data_fd_, map_size_, nullptr));
  if (o.catch_sigbus && map_ != nullptr) {
    guard_ = SigbusGuard::Register(map_, map_size_);
  }
  return RunWrite([&](const Txn& t) { return OpenDatabases(t, brand_new); });
}

absl::Status LmdbStore::OpenDatabases(const Txn& t, bool brand_new) {
  const unsigned create = brand_new ? MDB_CREATE : 0;
  MDB_dbi meta;
  int rc = mdb_dbi_open(t.txn, kMetaDb, create, &meta);
  if (rc == MDB_NOTFOUND) return NoMarker(Describe(), "no certstore format marker");
  if (rc) return Error("open databases", rc);
  MDB_val k = Val(kFormatKey), v;
  if (brand_new) {
    v = Val(kFormat);
    rc = mdb_put(t.txn, meta, &k, &v, 0);
    if (rc) return Error("write format marker", rc);
  } else {
    rc = mdb_get(t.txn, meta, &k, &v);
    if (rc == MDB_NOTFOUND) return NoMarker(Describe(), "no certstore format marker");
    if (rc) return Error("read format marker", rc);
    absl::StatusOr<absl::string_view> format = t.Checked(v, "format marker");
    if (!format.ok()) return format.status();
    if (*format != kFormat) {
      if (!absl::StartsWith(*format, kFormatPrefix) || format->size() > 64) {
        return NoMarker(Describe(), "a damaged format marker");
      }
      return absl::FailedPreconditionError(
          absl::StrCat(Describe(), ": store format ", *format,
                       " is not supported by this build (reads ", kFormat,
                       "); upgrade sslshim to open it"));
    }
  }
  rc = mdb_dbi_open(t.txn, "records", create, &records_);
  if (rc == 0) rc = mdb_dbi_open(t.txn, "log", create, &log_);
  if (rc == MDB_NOTFOUND) return NoMarker(Describe(), "lost its records database");
  return rc ? Error("open databases", rc) : absl::OkStatus();
}

void LmdbStore::SetAfterCheckHookForTest(std::function<void()> hook) {
  std::unique_lock<std::shared_mutex> lock(resize_mu_);
  after_check_hook_ = std::move(hook);
}

size_t LmdbStore::map_size() const {
  std::shared_lock<std::shared_mutex> lock(resize_mu_);
  return map_size_;
}

uint64_t LmdbStore::Faults() const { return guard_ ? guard_->faults() : 0; }

absl::Status LmdbStore::FaultError() const {
  return absl::DataLossError(
      absl::StrCat(Describe(),
                   "/data.mdb shrank while being read (SIGBUS caught): the file was "
                   "truncated underneath this process; restore it from a backup"));
}

absl::StatusOr<uint64_t> LmdbStore::CheckFile() const {
  // Fast path: the file has not changed since a full check that came well
  // after its last change (so a later change cannot share its timestamp,
  // whatever the filesystem's clock granularity): one fstat, no pread.
  struct stat now;
  if (fstat(data_fd_, &now) != 0) {
    return absl::UnavailableError(absl::StrCat(data_name_, ": fstat: ", strerror(errno)));
  }
  {
    std::lock_guard<std::mutex> lock(checked_mu_);
    if (checked_valid_ && now.st_ino == checked_.st_ino &&
        now.st_dev == checked_.st_dev && now.st_size == checked_.st_size &&
        now.st_mtim.tv_sec == checked_.st_mtim.tv_sec &&
        now.st_mtim.tv_nsec == checked_.st_mtim.tv_nsec &&
        now.st_ctim.tv_sec == checked_.st_ctim.tv_sec &&
        now.st_ctim.tv_nsec == checked_.st_ctim.tv_nsec) {
      return static_cast<uint64_t>(now.st_size);
    }
  }
  const absl::Time started = absl::Now();
  absl::StatusOr<LmdbFileState> st;
  for (int attempt = 0;; ++attempt) {
    st = CheckLmdbDataFile(data_fd_, data_name_);
    // A meta page being rewritten by a commit may read torn: look again.
    if (st.ok() || !absl::IsDataLoss(st.status()) || attempt == 2) break;
    absl::SleepFor(absl::Milliseconds(1));
  }
  if (!st.ok()) return st.status();
  if (st->page_size != page_size_) {
    return absl::DataLossError(absl::StrCat(
        data_name_, ": page size changed underneath (file replaced or damaged)"));
  }
  struct stat after;
  const absl::Time changed =
      absl::TimeFromTimespec(now.st_ctim) > absl::TimeFromTimespec(now.st_mtim)
          ? absl::TimeFromTimespec(now.st_ctim)
          : absl::TimeFromTimespec(now.st_mtim);
  std::lock_guard<std::mutex> lock(checked_mu_);
  checked_valid_ = fstat(data_fd_, &after) == 0 && after.st_size == now.st_size &&
                   after.st_ctim.tv_sec == now.st_ctim.tv_sec &&
                   after.st_ctim.tv_nsec == now.st_ctim.tv_nsec &&
                   changed < started - absl::Milliseconds(100);
  checked_ = now;
  return st->file_size;
}

absl::Status LmdbStore::AdoptMapSize(size_t size) {
  int rc = mdb_env_set_mapsize(env_, size);
  if (rc) {
    broken_ = true;  // LMDB has unmapped the file; no transaction may begin.
    return Error("map data file", rc);
  }
  MDB_envinfo info;
  mdb_env_info(env_, &info);
  map_size_ = info.me_mapsize;
  map_ =
      static_cast<const char*>(SigbusGuard::FindFileMapping(data_fd_, map_size_, guard_));
  if (guard_ != nullptr) guard_->Move(map_, map_ != nullptr ? map_size_ : 0);
  return absl::OkStatus();
}

absl::Status LmdbStore::Begin(std::shared_lock<std::shared_mutex>& lock, unsigned flags,
                              MDB_txn** txn, Txn* t) {
  *txn = nullptr;
  if (broken_) {
    return absl::UnavailableError(absl::StrCat(
        Describe(), ": the data file could not be mapped again; reopen the store"));
  }
  if (Faults() != repaired_faults_) {
    // A caught SIGBUS left zero pages in the map: map the file afresh, once
    // it passes the check again (e.g. restored from a backup).
    lock.unlock();
    std::unique_lock<std::shared_mutex> excl(resize_mu_);
    if (broken_ || Faults() == repaired_faults_) return absl::OkStatus();
    absl::StatusOr<uint64_t> size = CheckFile();
    if (!size.ok()) return size.status();
    const uint64_t faults = Faults();
    absl::Status s = AdoptMapSize(map_size_);
    if (s.ok()) repaired_faults_ = faults;
    return s;  // OK with no transaction: retry.
  }
  absl::StatusOr<uint64_t> size = CheckFile();
  if (!size.ok()) return size.status();
  if (after_check_hook_) after_check_hook_();
  int rc = mdb_txn_begin(env_, nullptr, flags, txn);
  if (rc == MDB_MAP_RESIZED) {
    *txn = nullptr;
    lock.unlock();
    std::unique_lock<std::shared_mutex> excl(resize_mu_);
    return AdoptMapSize(0);  // Another process grew the map; retry.
  }
  if (rc) {
    *txn = nullptr;
    return Error(flags & MDB_RDONLY ? "begin read" : "begin write", rc);
  }
  *t = Txn{this, *txn};
  if (map_ != nullptr) {  // Unknown map (no /proc): no bounds to check.
    t->map_begin = map_;
    t->map_end = map_ + map_size_;
    t->file_end = map_ + std::min<uint64_t>(*size, map_size_);
  }
  return absl::OkStatus();
}

absl::Status LmdbStore::RunRead(const TxnBody& body) {
  while (true) {
    std::shared_lock<std::shared_mutex> lock(resize_mu_);
    const uint64_t faults = Faults();
    MDB_txn* txn;
    Txn t;
    absl::Status s = Begin(lock, MDB_RDONLY, &txn, &t);
    if (!s.ok()) return s;
    if (txn == nullptr) continue;
    s = body(t);
    mdb_txn_abort(txn);
    if (Faults() != faults) return FaultError();
    return s;
  }
}

absl::Status LmdbStore::RunWrite(const TxnBody& body) {
  while (true) {
    std::shared_lock<std::shared_mutex> lock(resize_mu_);
    const size_t seen = map_size_;
    const uint64_t faults = Faults();
    MDB_txn* txn;
    Txn t;
    absl::Status s = Begin(lock, 0, &txn, &t);
    if (!s.ok()) return s;
    if (txn == nullptr) continue;
    s = body(t);
    // Never commit what zero pages (a caught SIGBUS) may have fed.
    if (s.ok() && Faults() != faults) s = FaultError();
    if (s.ok()) {
      int rc = mdb_txn_commit(txn);
      if (rc == 0) return Faults() != faults ? FaultError() : absl::OkStatus();
      s = Error("commit", rc);
    } else {
      mdb_txn_abort(txn);
    }
    if (!IsMapFull(s)) return s;
    lock.unlock();
    std::unique_lock<std::shared_mutex> excl(resize_mu_);
    if (map_size_ != seen) continue;  // Another thread grew it meanwhile.
    const size_t before = map_size_;
    s = AdoptMapSize(0);
    if (!s.ok()) return s;
    if (map_size_ > before) continue;  // Another process grew it.
    if (map_size_ >= options_.max_map_size) {
      return absl::ResourceExhaustedError(
          absl::StrCat(Describe(), ": LMDB map is full at ", map_size_,
                       " bytes (max_map_size); nothing was written. Raise max_map_size "
                       "or delete records"));
    }
    s = AdoptMapSize(std::min(map_size_ * 2, options_.max_map_size));
    if (!s.ok()) return s;
  }
}

absl::Status LmdbStore::AppendLog(const Txn& t, char op, uint64_t generation,
                                  const std::string& path) {
  MDB_cursor* cur;
  int rc = mdb_cursor_open(t.txn, log_, &cur);
  if (rc) return Error("open log cursor", rc);
  absl::Cleanup close = [cur] { mdb_cursor_close(cur); };
  MDB_val k, v;
  uint64_t first = 0, last = 0;
  rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
  if (rc == 0) {
    absl::StatusOr<uint64_t> seq = t.Seq(k);
    if (!seq.ok()) return seq.status();
    last = *seq;
    rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
    seq = rc == 0 ? t.Seq(k) : absl::StatusOr<uint64_t>(0);
    if (!seq.ok()) return seq.status();
    first = *seq;
  }
  uint64_t seq = last + 1;
  // Trim: keep the newest log_retention entries (amortised, a few per write).
  for (int n = 0; rc == 0 && n < 4 && first + options_.log_retention <= seq; ++n) {
    rc = mdb_cursor_del(cur, 0);
    if (rc == 0) rc = mdb_cursor_get(cur, &k, &v, MDB_GET_CURRENT);
    if (rc == 0) {
      absl::StatusOr<uint64_t> next = t.Seq(k);
      if (!next.ok()) return next.status();
      first = *next;
    }
  }
  if (rc != 0 && rc != MDB_NOTFOUND) return Error("trim log", rc);
  std::string key = SeqKey(seq);
  std::string entry = Encode(key, absl::string_view(&op, 1), generation, path);
  MDB_val kk = Val(key), vv = Val(entry);
  rc = mdb_put(t.txn, log_, &kk, &vv, 0);
  return rc ? Error("append log", rc) : absl::OkStatus();
}

absl::StatusOr<StoreEntry> LmdbStore::Get(const KeyPath& path) {
  if (path.empty()) {
    return absl::InvalidArgumentError("the root key path holds no record");
  }
  const std::string key = path.ToString();
  StoreEntry entry;
  absl::Status s = RunRead([&](const Txn& t) -> absl::Status {
    MDB_val k = Val(key), v;
    int rc = mdb_get(t.txn, records_, &k, &v);
    if (rc == MDB_NOTFOUND) return NotFoundError(path, Describe());
    if (rc) return Error("get", rc);
    absl::StatusOr<absl::string_view> payload =
        t.Opened(key, v, absl::StrCat("stored value of ", key));
    if (!payload.ok()) return payload.status();
    entry.generation = absl::little_endian::Load64(payload->data());
    entry.value = std::string(payload->substr(kGenBytes));
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return entry;
}

absl::StatusOr<uint64_t> LmdbStore::Put(const KeyPath& path, absl::string_view value,
                                        uint64_t expected_generation) {
  absl::Status s = CheckWritablePath(path);
  if (!s.ok()) return s;
  const std::string key = path.ToString();
  uint64_t generation = 0;
  s = RunWrite([&](const Txn& t) -> absl::Status {
    MDB_val k = Val(key), v;
    int rc = mdb_get(t.txn, records_, &k, &v);
    if (rc != 0 && rc != MDB_NOTFOUND) return Error("get", rc);
    uint64_t current = 0;
    if (rc == 0) {
      absl::StatusOr<absl::string_view> payload =
          t.Opened(key, v, absl::StrCat("stored value of ", key));
      if (!payload.ok()) {
        return absl::DataLossError(absl::StrCat(payload.status().message(),
                                                "; delete the record to replace it"));
      }
      current = absl::little_endian::Load64(payload->data());
    }
    if (!GenerationMatches(expected_generation, current)) {
      return ConflictError(path, expected_generation, current);
    }
    generation = current + 1;
    std::string stored = Encode(key, "", generation, value);
    MDB_val sv = Val(stored);
    rc = mdb_put(t.txn, records_, &k, &sv, 0);
    if (rc) return Error("put", rc);
    return AppendLog(t, 'p', generation, key);
  });
  if (!s.ok()) return s;
  return generation;
}

absl::Status LmdbStore::Delete(const KeyPath& path, uint64_t expected_generation) {
  if (path.empty()) {
    return absl::InvalidArgumentError("the root key path holds no record");
  }
  const std::string key = path.ToString();
  return RunWrite([&](const Txn& t) -> absl::Status {
    MDB_val k = Val(key), v;
    int rc = mdb_get(t.txn, records_, &k, &v);
    if (rc == MDB_NOTFOUND) return NotFoundError(path, Describe());
    if (rc) return Error("get", rc);
    absl::StatusOr<absl::string_view> payload =
        t.Opened(key, v, absl::StrCat("stored value of ", key));
    // A corrupt record can still be deleted unconditionally.
    if (!payload.ok() && expected_generation != kAnyGeneration) return payload.status();
    uint64_t current = payload.ok() ? absl::little_endian::Load64(payload->data()) : 0;
    if (!GenerationMatches(expected_generation, current)) {
      return ConflictError(path, expected_generation, current);
    }
    rc = mdb_del(t.txn, records_, &k, nullptr);
    if (rc) return Error("delete", rc);
    return AppendLog(t, 'd', 0, key);
  });
}

absl::StatusOr<ListPage> LmdbStore::List(const KeyPath& prefix, size_t limit,
                                         absl::string_view cursor) {
  absl::Status s = CheckListArgs(prefix, limit, cursor);
  if (!s.ok()) return s;
  KeyRange range = DescendantRange(prefix);
  ListPageBuilder page(limit, Describe());
  s = RunRead([&](const Txn& t) -> absl::Status {
    MDB_cursor* cur;
    int rc = mdb_cursor_open(t.txn, records_, &cur);
    if (rc) return Error("open cursor", rc);
    absl::Cleanup close = [cur] { mdb_cursor_close(cur); };
    std::string start = cursor.empty() ? range.begin : std::string(cursor);
    MDB_val k = Val(start), v;
    rc = start.empty() ? mdb_cursor_get(cur, &k, &v, MDB_FIRST)
                       : mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    for (bool first = true; rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
      absl::StatusOr<absl::string_view> key = t.Checked(k, "record key");
      if (!key.ok()) return key.status();
      if (first && !cursor.empty() && *key == cursor) {
        first = false;
        continue;
      }
      first = false;
      if (!range.end.empty() && *key >= range.end) break;
      if (!page.Add(*key)) break;
    }
    if (rc != 0 && rc != MDB_NOTFOUND) return Error("list", rc);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return std::move(page).Finish();
}

absl::StatusOr<std::unique_ptr<Watcher>> LmdbStore::Watch(const KeyPath& prefix) {
  uint64_t next = 1;
  absl::Status s = RunRead([&](const Txn& t) -> absl::Status {
    MDB_cursor* cur;
    int rc = mdb_cursor_open(t.txn, log_, &cur);
    if (rc) return Error("open log cursor", rc);
    absl::Cleanup close = [cur] { mdb_cursor_close(cur); };
    MDB_val k, v;
    rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
    if (rc == 0) {
      absl::StatusOr<uint64_t> last = t.Seq(k);
      if (!last.ok()) return last.status();
      next = *last + 1;
    }
    if (rc != 0 && rc != MDB_NOTFOUND) return Error("read log", rc);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return std::unique_ptr<Watcher>(new LmdbWatcher(this, prefix, next));
}

absl::Status LmdbStore::RawWrite(const KeyPath& path, absl::string_view value) {
  const std::string key = path.ToString();
  return RunWrite([&](const Txn& t) -> absl::Status {
    std::string stored = Encode(key, "", 1, value);
    MDB_val k = Val(key), v = Val(stored);
    int rc = mdb_put(t.txn, records_, &k, &v, 0);
    return rc ? Error("put", rc) : absl::OkStatus();
  });
}

}  // namespace sslshim::certstore
