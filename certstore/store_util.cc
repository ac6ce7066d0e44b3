#include "certstore/store_util.h"

#include <chrono>

#include "absl/strings/str_cat.h"

namespace sslshim::certstore {

absl::Status CheckWritablePath(const KeyPath& path) {
  if (path.empty()) {
    return absl::InvalidArgumentError("cannot write the root key path");
  }
  return absl::OkStatus();
}

absl::Status CheckListArgs(const KeyPath& prefix, size_t limit,
                           absl::string_view cursor) {
  if (limit == 0) return absl::InvalidArgumentError("list limit must be > 0");
  if (cursor.empty()) return absl::OkStatus();
  absl::StatusOr<KeyPath> c = KeyPath::Parse(cursor);
  if (!c.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid list cursor: ", c.status().message()));
  }
  if (!c->IsUnder(prefix) || *c == prefix) {
    return absl::InvalidArgumentError(absl::StrCat(
        "list cursor ", c->ToString(), " is not under prefix ", prefix.ToString()));
  }
  return absl::OkStatus();
}

bool GenerationMatches(uint64_t expected, uint64_t current) {
  return expected == kAnyGeneration || expected == current;
}

absl::Status ConflictError(const KeyPath& path, uint64_t expected, uint64_t current) {
  return absl::AbortedError(absl::StrCat(
      "generation conflict on ", path.ToString(), ": expected ",
      expected == kMustNotExist ? std::string("no record")
                                : absl::StrCat("generation ", expected),
      ", found ",
      current == 0 ? std::string("no record") : absl::StrCat("generation ", current),
      "; re-read and retry"));
}

absl::Status NotFoundError(const KeyPath& path, absl::string_view store) {
  return absl::NotFoundError(absl::StrCat("no record ", path.ToString(), " in ", store));
}

absl::StatusOr<KeyPath> ParseStoredPath(absl::string_view text, absl::string_view store) {
  absl::StatusOr<KeyPath> p = KeyPath::Parse(text);
  if (!p.ok()) {
    return absl::DataLossError(absl::StrCat(
        "stored key in ", store, " is not a valid key path: ", p.status().message()));
  }
  return p;
}

bool ListPageBuilder::Add(absl::string_view key) {
  if (page_.paths.size() == limit_) {
    page_.next_cursor = page_.paths.back().ToString();
    return false;
  }
  absl::StatusOr<KeyPath> p = ParseStoredPath(key, store_);
  if (!p.ok()) {
    status_ = p.status();
    return false;
  }
  page_.paths.push_back(*std::move(p));
  return true;
}

absl::StatusOr<ListPage> ListPageBuilder::Finish() && {
  if (!status_.ok()) return status_;
  return std::move(page_);
}

void WatchQueue::Push(const WatchEvent& event) {
  if (event.type != WatchEvent::Type::kResync && !event.path.IsUnder(prefix_)) {
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    events_.push_back(event);
  }
  cv_.notify_one();
}

absl::optional<WatchEvent> WatchQueue::Pop(absl::Duration timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, absl::ToChronoNanoseconds(timeout),
               [this] { return !events_.empty(); });
  if (events_.empty()) return absl::nullopt;
  WatchEvent e = std::move(events_.front());
  events_.pop_front();
  return e;
}

}  // namespace sslshim::certstore
