// store_util.h
// -----------------------------------------------------------------------------
// Helpers shared by the Store backends: argument checks, the standard error
// messages, and an in-process event queue for watchers.
//
//   absl::Status s = CheckListArgs(prefix, limit, cursor);
//   if (!s.ok()) return s;

#ifndef SSLSHIM_CERTSTORE_STORE_UTIL_H_
#define SSLSHIM_CERTSTORE_STORE_UTIL_H_

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "certstore/key_path.h"
#include "certstore/store.h"

namespace sslshim::certstore {

// CheckWritablePath() refuses the root path. Errors: InvalidArgument.
absl::Status CheckWritablePath(const KeyPath& path);

// CheckListArgs() validates a List() call: limit > 0, cursor either empty or
// a canonical path string that is a proper descendant of prefix.
// Errors: InvalidArgument.
absl::Status CheckListArgs(const KeyPath& prefix, size_t limit, absl::string_view cursor);

// GenerationMatches() applies the compare-and-set rule. `current` is 0 when
// the record does not exist.
bool GenerationMatches(uint64_t expected, uint64_t current);

// ConflictError() is the ABORTED status for a failed compare-and-set.
absl::Status ConflictError(const KeyPath& path, uint64_t expected, uint64_t current);

// NotFoundError() is the NOT_FOUND status for a missing record.
absl::Status NotFoundError(const KeyPath& path, absl::string_view store);

// ParseStoredPath() parses a canonical path read back from a backend.
// Errors: DataLoss (a stored key that is not a canonical path).
absl::StatusOr<KeyPath> ParseStoredPath(absl::string_view text, absl::string_view store);

// ListPageBuilder fills a ListPage from canonical keys read in order:
//
//   ListPageBuilder page(limit, Describe());
//   for (each key in range) if (!page.Add(key)) break;
//   return page.Finish();
class ListPageBuilder {
 public:
  ListPageBuilder(size_t limit, std::string store)
      : limit_(limit), store_(std::move(store)) {}

  // Add() appends `key`. Returns false when the caller should stop: the page
  // was already full (next_cursor is then set) or `key` is not a canonical
  // path (Finish() then returns DataLoss).
  bool Add(absl::string_view key);

  // Finish() returns the page or the first error.
  absl::StatusOr<ListPage> Finish() &&;

 private:
  const size_t limit_;
  const std::string store_;
  ListPage page_;
  absl::Status status_;
};

// WatchQueue is a thread-safe FIFO of WatchEvents for one in-process watcher.
// Producers call Push(); the owning Watcher calls Pop().
class WatchQueue {
 public:
  explicit WatchQueue(KeyPath prefix) : prefix_(std::move(prefix)) {}

  const KeyPath& prefix() const { return prefix_; }

  // Push() appends `event` if its path is under prefix().
  void Push(const WatchEvent& event);

  // Pop() waits up to `timeout` for an event; nullopt on timeout.
  absl::optional<WatchEvent> Pop(absl::Duration timeout);

 private:
  const KeyPath prefix_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<WatchEvent> events_;
};

}  // namespace sslshim::certstore

#endif  // SSLSHIM_CERTSTORE_STORE_UTIL_H_
