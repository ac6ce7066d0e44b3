#include "certstore/memory_store.h"

#include <utility>

namespace sslshim::certstore {
namespace {

class MemoryWatcher : public Watcher {
 public:
  explicit MemoryWatcher(std::shared_ptr<WatchQueue> queue) : queue_(std::move(queue)) {}
  absl::StatusOr<absl::optional<WatchEvent>> Next(absl::Duration timeout) override {
    return queue_->Pop(timeout);
  }

 private:
  std::shared_ptr<WatchQueue> queue_;
};

}  // namespace

std::unique_ptr<MemoryStore> MemoryStore::Create() {
  return std::unique_ptr<MemoryStore>(new MemoryStore());
}

absl::StatusOr<StoreEntry> MemoryStore::Get(const KeyPath& path) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = records_.find(path.ToString());
  if (it == records_.end()) return NotFoundError(path, Describe());
  return it->second;
}

absl::StatusOr<uint64_t> MemoryStore::Put(const KeyPath& path, absl::string_view value,
                                          uint64_t expected_generation) {
  absl::Status s = CheckWritablePath(path);
  if (!s.ok()) return s;
  std::lock_guard<std::mutex> lock(mu_);
  auto it = records_.find(path.ToString());
  uint64_t current = it == records_.end() ? 0 : it->second.generation;
  if (!GenerationMatches(expected_generation, current)) {
    return ConflictError(path, expected_generation, current);
  }
  StoreEntry& e = records_[path.ToString()];
  e.value = std::string(value);
  e.generation = current + 1;
  Notify(WatchEvent{WatchEvent::Type::kPut, path, e.generation});
  return e.generation;
}

absl::Status MemoryStore::Delete(const KeyPath& path, uint64_t expected_generation) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = records_.find(path.ToString());
  if (it == records_.end()) return NotFoundError(path, Describe());
  if (!GenerationMatches(expected_generation, it->second.generation)) {
    return ConflictError(path, expected_generation, it->second.generation);
  }
  records_.erase(it);
  Notify(WatchEvent{WatchEvent::Type::kDelete, path, 0});
  return absl::OkStatus();
}

absl::StatusOr<ListPage> MemoryStore::List(const KeyPath& prefix, size_t limit,
                                           absl::string_view cursor) {
  absl::Status s = CheckListArgs(prefix, limit, cursor);
  if (!s.ok()) return s;
  KeyRange range = DescendantRange(prefix);
  std::lock_guard<std::mutex> lock(mu_);
  auto it = cursor.empty() ? records_.lower_bound(range.begin)
                           : records_.upper_bound(std::string(cursor));
  ListPageBuilder page(limit, Describe());
  for (; it != records_.end(); ++it) {
    if (!range.end.empty() && it->first >= range.end) break;
    if (!page.Add(it->first)) break;
  }
  return std::move(page).Finish();
}

absl::StatusOr<std::unique_ptr<Watcher>> MemoryStore::Watch(const KeyPath& prefix) {
  auto queue = std::make_shared<WatchQueue>(prefix);
  std::lock_guard<std::mutex> lock(mu_);
  watchers_.push_back(queue);
  return std::unique_ptr<Watcher>(new MemoryWatcher(queue));
}

absl::Status MemoryStore::RawWrite(const KeyPath& path, absl::string_view value) {
  std::lock_guard<std::mutex> lock(mu_);
  StoreEntry& e = records_[path.ToString()];
  e.value = std::string(value);
  if (e.generation == 0) e.generation = 1;
  return absl::OkStatus();
}

void MemoryStore::Notify(const WatchEvent& event) {
  for (auto it = watchers_.begin(); it != watchers_.end();) {
    if (std::shared_ptr<WatchQueue> q = it->lock()) {
      q->Push(event);
      ++it;
    } else {
      it = watchers_.erase(it);
    }
  }
}

}  // namespace sslshim::certstore
