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
// generation (8 bytes, little endian) | value; database "log" maps a
// sequence number (8 bytes, big endian) to the change it records, written in
// the same transaction. Watchers in any process poll the log, so a change
// made by another process is seen too. The log keeps the newest
// `log_retention` changes; a watcher that falls further behind gets kResync.
//
// LMDB rule: open one LmdbStore per directory per process and share it
// between threads (it is thread-safe); other processes open their own.

#ifndef SSLSHIM_CERTSTORE_LMDB_STORE_H_
#define SSLSHIM_CERTSTORE_LMDB_STORE_H_

#include <lmdb.h>

#include <functional>
#include <memory>
#include <shared_mutex>
#include <string>

#include "absl/time/time.h"
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
};

// LmdbStore implements Store over one LMDB environment.
class LmdbStore : public Store {
 public:
  // Create() opens (creating if needed) the environment in
  // options.directory. Errors: InvalidArgument (empty directory),
  // Unavailable (cannot create or open the directory, naming it and errno).
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
  // `path` with generation 1, bypassing all checks.
  absl::Status RawWrite(const KeyPath& path, absl::string_view value);

  // map_size() is the current map size in bytes.
  size_t map_size() const;

 private:
  class LmdbWatcher;
  friend class LmdbWatcher;

  explicit LmdbStore(LmdbStoreOptions options);

  // RunWrite() runs `body` in a write transaction, growing the map and
  // retrying when it fills. `body` returns OK to commit.
  absl::Status RunWrite(const std::function<absl::Status(MDB_txn*)>& body);
  // RunRead() runs `body` in a read-only transaction.
  absl::Status RunRead(const std::function<absl::Status(MDB_txn*)>& body);
  absl::Status AppendLog(MDB_txn* txn, char op, uint64_t generation,
                         const std::string& path);
  absl::Status Error(absl::string_view op, int rc) const;

  const LmdbStoreOptions options_;
  MDB_env* env_ = nullptr;
  MDB_dbi records_ = 0;
  MDB_dbi log_ = 0;
  // Shared by every transaction; exclusive while changing the map size.
  mutable std::shared_mutex resize_mu_;
  size_t map_size_ = 0;  // Guarded by resize_mu_.
};

}  // namespace sslshim::certstore

#endif  // SSLSHIM_CERTSTORE_LMDB_STORE_H_
