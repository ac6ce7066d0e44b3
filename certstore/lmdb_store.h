// lmdb_store.h
// -----------------------------------------------------------------------------
// LmdbStore is the embedded default Store: one directory holding an LMDB
// environment. Crash-safe (a writer killed at any point leaves every record
// either old or new, never torn), many reader processes alongside one writer
// at a time (LMDB serialises writers across processes), and a map that grows
// on demand up to a configured maximum.
//
//   absl::StatusOr<std::unique_ptr<LmdbStore>> store =
//       LmdbStore::Create({.directory = "/var/lib/certstore"});
//
// Layout: database "records" maps canonical key paths to
// generation (8 bytes, little endian) | value | checksum; database "log" maps
// a sequence number (8 bytes, big endian) to the change it records
// (op | generation | path | checksum), written in the same transaction;
// database "sslshim" holds the format marker. The checksum is CRC-32C
// (crc32c.h) over the key and everything before it, so a flipped byte in a
// value, its generation or its key reads as DataLoss, never as data.
// Watchers in any process poll the log, so a change made by another process
// is seen too. The log keeps the newest `log_retention` changes; a watcher
// that falls further behind gets kResync.
//
// Damage underneath a running process (see lmdb_file_check.h): before every
// read or write transaction, and so in every watch poll, the data file's size
// is checked against LMDB's own last page (read from the meta pages with
// pread, never through the map), so a file truncated or emptied underneath
// is reported as DataLoss instead of faulting on the map. A truncation that
// lands between that check and the access is caught by SigbusGuard
// (sigbus_guard.h): the transaction reports DataLoss and the map is remapped
// before the next one. Values are also bounds-checked against the checked
// file size before they are copied. A repaired file (restored in place) is
// used again on the next call.
//
// An emptied store never looks like an empty one: a new store is created
// only where no data.mdb exists (or where LMDB's initial meta pages show that
// no transaction ever committed). A data.mdb of 0 bytes, one shorter than
// its last page, or an existing store without the format marker is DataLoss.
// Creation is serialised across processes with flock() on the directory.
//
// LMDB rule: open one LmdbStore per directory per process and share it
// between threads (it is thread-safe); other processes open their own.

#ifndef SSLSHIM_CERTSTORE_LMDB_STORE_H_
#define SSLSHIM_CERTSTORE_LMDB_STORE_H_

#include <lmdb.h>
#include <sys/stat.h>

#include <functional>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>

#include "absl/time/time.h"
#include "certstore/sigbus_guard.h"
#include "certstore/store.h"

namespace sslshim::certstore {

// LmdbStoreOptions configures LmdbStore::Create().
struct LmdbStoreOptions {
  std::string directory;                  // Created if missing.
  size_t initial_map_size = 8 << 20;      // Bytes.
  size_t max_map_size = size_t{4} << 30;  // Growth stops here.
  unsigned max_readers = 126;             // Concurrent read transactions.
  size_t log_retention = 10000;           // Changes kept for watchers.
  // false sets MDB_NOSYNC: still safe when a process is killed (the page
  // cache survives), but an OS crash may lose the newest commits.
  bool sync = true;
  absl::Duration watch_poll_interval = absl::Milliseconds(20);
  // Catch SIGBUS on the map (SigbusGuard) as a safety net under the size
  // check. Off only to observe the unguarded behaviour.
  bool catch_sigbus = true;
};

// LmdbStore implements Store over one LMDB environment.
class LmdbStore : public Store {
 public:
  // Create() opens (creating if needed) the environment in
  // options.directory. Errors: InvalidArgument (empty directory),
  // Unavailable (cannot create or open the directory, naming it and errno),
  // DataLoss (data.mdb emptied, truncated, damaged, or without the format
  // marker), FailedPrecondition (a newer format than this build reads).
  static absl::StatusOr<std::unique_ptr<LmdbStore>> Create(LmdbStoreOptions options);

  ~LmdbStore() override;

  absl::StatusOr<StoreEntry> Get(const KeyPath& path) override;
  absl::StatusOr<uint64_t> Put(const KeyPath& path, absl::string_view value,
                               uint64_t expected_generation) override;
  absl::Status Delete(const KeyPath& path, uint64_t expected_generation) override;
  absl::StatusOr<ListPage> List(const KeyPath& prefix, size_t limit,
                                absl::string_view cursor) override;
  absl::StatusOr<std::unique_ptr<Watcher>> Watch(const KeyPath& prefix) override;
  std::string Describe() const override { return "lmdb:" + options_.directory; }

  // Test hook: RawWrite() stores raw bytes (after the generation header) at
  // `path` with generation 1 and a valid checksum, bypassing all checks.
  absl::Status RawWrite(const KeyPath& path, absl::string_view value);

  // Test hook: `hook` runs inside every transaction after the file check and
  // before LMDB touches the map (to damage the file in that window).
  void SetAfterCheckHookForTest(std::function<void()> hook);

  // map_size() is the current map size in bytes.
  size_t map_size() const;

 private:
  class LmdbWatcher;
  friend class LmdbWatcher;
  struct Txn;
  using TxnBody = std::function<absl::Status(const Txn&)>;

  explicit LmdbStore(LmdbStoreOptions options);

  // OpenEnv() opens the environment and its databases; `brand_new` creates
  // the databases and the format marker, else they must exist.
  absl::Status OpenEnv(bool brand_new);
  absl::Status OpenDatabases(const Txn& t, bool brand_new);
  // RunWrite() runs `body` in a write transaction, growing the map and
  // retrying when it fills. `body` returns OK to commit.
  absl::Status RunWrite(const TxnBody& body);
  // RunRead() runs `body` in a read-only transaction.
  absl::Status RunRead(const TxnBody& body);
  // Begin() checks the file and the map, then begins a transaction; nullptr
  // in *txn with OK status means "the map was adopted or repaired: retry".
  absl::Status Begin(std::shared_lock<std::shared_mutex>& lock, unsigned flags,
                     MDB_txn** txn, Txn* t);
  // CheckFile() runs CheckLmdbDataFile() (retrying a possibly torn read).
  absl::StatusOr<uint64_t> CheckFile() const;
  // AdoptMapSize() re-maps the file at `size` (0: the size in the meta page)
  // and re-points the SIGBUS guard. Caller holds resize_mu_ exclusively.
  absl::Status AdoptMapSize(size_t size);
  uint64_t Faults() const;
  absl::Status FaultError() const;
  absl::Status AppendLog(const Txn& t, char op, uint64_t generation,
                         const std::string& path);
  absl::Status Error(absl::string_view op, int rc) const;

  const LmdbStoreOptions options_;
  MDB_env* env_ = nullptr;
  int data_fd_ = -1;       // LMDB's descriptor of data.mdb (owned by env_).
  std::string data_name_;  // "lmdb:<dir>/data.mdb", for messages.
  // The file's stat at the last full check, when CheckFile() may trust an
  // unchanged stat instead of reading the meta pages again.
  mutable std::mutex checked_mu_;
  mutable struct stat checked_ = {};    // Guarded by checked_mu_.
  mutable bool checked_valid_ = false;  // Guarded by checked_mu_.
  size_t page_size_ = 0;
  MDB_dbi records_ = 0;
  MDB_dbi log_ = 0;
  SigbusGuard::Region* guard_ = nullptr;
  std::function<void()> after_check_hook_;
  // Shared by every transaction; exclusive while changing the map.
  mutable std::shared_mutex resize_mu_;
  size_t map_size_ = 0;           // Guarded by resize_mu_.
  const char* map_ = nullptr;     // Guarded by resize_mu_.
  uint64_t repaired_faults_ = 0;  // Guarded by resize_mu_.
  bool broken_ = false;           // Guarded by resize_mu_.
};

}  // namespace sslshim::certstore

#endif  // SSLSHIM_CERTSTORE_LMDB_STORE_H_
