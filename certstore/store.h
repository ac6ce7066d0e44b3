// store.h
// -----------------------------------------------------------------------------
// Store is the key-value interface every certstore backend implements: bytes
// under KeyPaths, each with a generation that the store assigns.
//
//   std::unique_ptr<Store> store = ...;             // memory, LMDB or Redis
//   absl::StatusOr<uint64_t> gen = store->Put(path, bytes, kMustNotExist);
//   absl::StatusOr<StoreEntry> e = store->Get(path);
//   store->Put(path, new_bytes, e->generation);      // compare-and-set
//
// Generations: a record's first write gets generation 1 and every later write
// adds 1. A delete forgets the record; writing it again starts at 1.
//
// Compare-and-set: `expected_generation` is kAnyGeneration (no check),
// kMustNotExist (0: create only) or the generation the caller read. On
// mismatch the call fails with ABORTED ("generation conflict ...") and
// changes nothing; re-read and retry.
//
// Listing: List(prefix, limit, cursor) returns the proper descendants of
// `prefix` (all records for the root) in byte order of their canonical
// strings, at most `limit` per page; pass the page's next_cursor back to
// continue. An empty next_cursor means the listing is complete.
//
// Watching: Watch(prefix) returns a Watcher whose Next() yields put/delete
// events for records under `prefix` that happen after Watch() returned.
// kResync means events may have been lost (e.g. a reconnect): re-list.
//
// Errors common to all backends: InvalidArgument (bad cursor, limit 0),
// NotFound (Get/Delete of a missing record), Aborted (generation conflict),
// Unavailable (backend down; names the endpoint), DeadlineExceeded,
// PermissionDenied (tenant views, Redis ACL), DataLoss (unreadable stored
// bytes), ResourceExhausted (LMDB map full at its maximum size).
//
// Thread safety: every Store is safe for concurrent use from many threads.
// A Watcher belongs to one thread at a time.

#ifndef SSLSHIM_CERTSTORE_STORE_H_
#define SSLSHIM_CERTSTORE_STORE_H_

#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"
#include "certstore/key_path.h"

namespace sslshim::certstore {

// Special values of `expected_generation`.
inline constexpr uint64_t kAnyGeneration = std::numeric_limits<uint64_t>::max();
inline constexpr uint64_t kMustNotExist = 0;

// StoreEntry is a stored value and its generation.
struct StoreEntry {
  std::string value;
  uint64_t generation = 0;
};

// ListPage is one page of a listing.
struct ListPage {
  std::vector<KeyPath> paths;
  std::string next_cursor;  // Empty when there is nothing more.
};

// WatchEvent reports one change under a watched prefix.
struct WatchEvent {
  enum class Type { kPut, kDelete, kResync };
  Type type = Type::kPut;
  KeyPath path;             // Empty for kResync.
  uint64_t generation = 0;  // New generation for kPut, 0 otherwise.
};

// Watcher yields the changes under one prefix. Destroying it stops the watch.
class Watcher {
 public:
  virtual ~Watcher() = default;

  // Next() waits up to `timeout` for the next event. Returns nullopt when the
  // timeout passes with no event. Errors: Unavailable when the backend is
  // down (the watcher keeps trying; call Next() again).
  virtual absl::StatusOr<absl::optional<WatchEvent>> Next(absl::Duration timeout) = 0;
};

// Store is the backend interface. See the file comment for semantics.
class Store {
 public:
  virtual ~Store() = default;

  // Get() returns the value and generation stored at `path`.
  virtual absl::StatusOr<StoreEntry> Get(const KeyPath& path) = 0;

  // Put() stores `value` at `path` if `expected_generation` matches, and
  // returns the new generation. The root path cannot be written.
  virtual absl::StatusOr<uint64_t> Put(const KeyPath& path, absl::string_view value,
                                       uint64_t expected_generation) = 0;

  // Delete() removes `path` if `expected_generation` matches.
  virtual absl::Status Delete(const KeyPath& path, uint64_t expected_generation) = 0;

  // List() returns up to `limit` descendants of `prefix` after `cursor`.
  virtual absl::StatusOr<ListPage> List(const KeyPath& prefix, size_t limit,
                                        absl::string_view cursor) = 0;

  // Watch() starts watching `prefix`. The caller owns the Watcher, which
  // must not outlive the Store.
  virtual absl::StatusOr<std::unique_ptr<Watcher>> Watch(const KeyPath& prefix) = 0;

  // Describe() names the backend and endpoint, e.g. "lmdb:/var/lib/x" or
  // "redis://127.0.0.1:6379/0". Never contains a password.
  virtual std::string Describe() const = 0;
};

}  // namespace sslshim::certstore

#endif  // SSLSHIM_CERTSTORE_STORE_H_
