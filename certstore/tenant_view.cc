#include "certstore/tenant_view.h"

#include "absl/strings/str_cat.h"

namespace sslshim::certstore {

absl::StatusOr<std::unique_ptr<TenantView>> TenantView::Create(Store* base,
                                                               KeyPath prefix) {
  if (base == nullptr) return absl::InvalidArgumentError("base store is null");
  if (prefix.empty()) {
    return absl::InvalidArgumentError("a tenant prefix cannot be the root");
  }
  return std::unique_ptr<TenantView>(new TenantView(base, std::move(prefix)));
}

std::string TenantView::Describe() const {
  return absl::StrCat(base_->Describe(), " (tenant ", prefix_.ToString(), ")");
}

absl::Status TenantView::Check(const KeyPath& path, absl::string_view op) const {
  if (path.IsUnder(prefix_)) return absl::OkStatus();
  return absl::PermissionDeniedError(absl::StrCat(
      "tenant ", prefix_.ToString(), " may not ", op, " ",
      path.empty() ? std::string("the root") : path.ToString(), ": outside its prefix"));
}

absl::StatusOr<StoreEntry> TenantView::Get(const KeyPath& path) {
  absl::Status s = Check(path, "read");
  if (!s.ok()) return s;
  return base_->Get(path);
}

absl::StatusOr<uint64_t> TenantView::Put(const KeyPath& path, absl::string_view value,
                                         uint64_t expected_generation) {
  absl::Status s = Check(path, "write");
  if (!s.ok()) return s;
  return base_->Put(path, value, expected_generation);
}

absl::Status TenantView::Delete(const KeyPath& path, uint64_t expected_generation) {
  absl::Status s = Check(path, "delete");
  if (!s.ok()) return s;
  return base_->Delete(path, expected_generation);
}

absl::StatusOr<ListPage> TenantView::List(const KeyPath& prefix, size_t limit,
                                          absl::string_view cursor) {
  absl::Status s = Check(prefix, "list");
  if (!s.ok()) return s;
  if (!cursor.empty()) {
    absl::StatusOr<KeyPath> c = KeyPath::Parse(cursor);
    if (!c.ok()) return c.status();
    s = Check(*c, "list from cursor");
    if (!s.ok()) return s;
  }
  return base_->List(prefix, limit, cursor);
}

absl::StatusOr<std::unique_ptr<Watcher>> TenantView::Watch(const KeyPath& prefix) {
  absl::Status s = Check(prefix, "watch");
  if (!s.ok()) return s;
  return base_->Watch(prefix);
}

}  // namespace sslshim::certstore
