// memory_store.h
// -----------------------------------------------------------------------------
// MemoryStore is an in-process Store for tests and `memory:` URLs. Contents
// vanish with the object.
//
//   std::unique_ptr<Store> store = MemoryStore::Create();

#ifndef SSLSHIM_CERTSTORE_MEMORY_STORE_H_
#define SSLSHIM_CERTSTORE_MEMORY_STORE_H_

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "certstore/store.h"
#include "certstore/store_util.h"

namespace sslshim::certstore {

// MemoryStore keeps records in an ordered map guarded by a mutex.
class MemoryStore : public Store {
 public:
  // Create() returns an empty store. Never fails.
  static std::unique_ptr<MemoryStore> Create();

  absl::StatusOr<StoreEntry> Get(const KeyPath& path) override;
  absl::StatusOr<uint64_t> Put(const KeyPath& path, absl::string_view value,
                               uint64_t expected_generation) override;
  absl::Status Delete(const KeyPath& path, uint64_t expected_generation) override;
  absl::StatusOr<ListPage> List(const KeyPath& prefix, size_t limit,
                                absl::string_view cursor) override;
  absl::StatusOr<std::unique_ptr<Watcher>> Watch(const KeyPath& prefix) override;
  std::string Describe() const override { return "memory:"; }

  // Test hook: RawWrite() overwrites a stored value without validation or
  // generation change (e.g. to simulate corrupt bytes).
  absl::Status RawWrite(const KeyPath& path, absl::string_view value);

 private:
  MemoryStore() = default;
  void Notify(const WatchEvent& event);  // Requires mu_ held.

  std::mutex mu_;
  std::map<std::string, StoreEntry> records_;  // Keyed by canonical string.
  std::vector<std::weak_ptr<WatchQueue>> watchers_;
};

}  // namespace sslshim::certstore

#endif  // SSLSHIM_CERTSTORE_MEMORY_STORE_H_
