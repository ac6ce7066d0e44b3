// tenant_view.h
// -----------------------------------------------------------------------------
// TenantView is a Store bound to one tenant's key prefix: every path it is
// given must be at or under the prefix, or the call fails with
// PERMISSION_DENIED before reaching the underlying store. Because key paths
// are compared element by element (never as raw strings), neither `..`
// segments, escaped separators ("A%2FB"), nor other tenants' names that merely
// start with this tenant's name ("tenantAB" vs "tenantA") get out.
//
//   KeyPath prefix = *KeyPath::Of({"Tenant", "tenantA"});
//   absl::StatusOr<std::unique_ptr<TenantView>> view =
//       TenantView::Create(shared_store, prefix);
//   (*view)->Get(*KeyPath::Of({"Tenant", "tenantB", "Cert", 1}));
//       // PERMISSION_DENIED
//
// On Redis, pair this with a per-tenant ACL user (redis_store.h) so the
// server enforces the same boundary.

#ifndef SSLSHIM_CERTSTORE_TENANT_VIEW_H_
#define SSLSHIM_CERTSTORE_TENANT_VIEW_H_

#include <memory>
#include <string>

#include "certstore/store.h"

namespace sslshim::certstore {

// TenantView forwards to a borrowed Store after checking the prefix.
class TenantView : public Store {
 public:
  // Create() binds `base` (borrowed; must outlive the view) to `prefix`.
  // Errors: InvalidArgument for a null base or the root prefix.
  static absl::StatusOr<std::unique_ptr<TenantView>> Create(Store* base, KeyPath prefix);

  const KeyPath& prefix() const { return prefix_; }

  absl::StatusOr<StoreEntry> Get(const KeyPath& path) override;
  absl::StatusOr<uint64_t> Put(const KeyPath& path, absl::string_view value,
                               uint64_t expected_generation) override;
  absl::Status Delete(const KeyPath& path, uint64_t expected_generation) override;
  // List() also refuses cursors outside the prefix.
  absl::StatusOr<ListPage> List(const KeyPath& prefix, size_t limit,
                                absl::string_view cursor) override;
  absl::StatusOr<std::unique_ptr<Watcher>> Watch(const KeyPath& prefix) override;
  std::string Describe() const override;

 private:
  TenantView(Store* base, KeyPath prefix) : base_(base), prefix_(std::move(prefix)) {}
  absl::Status Check(const KeyPath& path, absl::string_view op) const;

  Store* const base_;
  const KeyPath prefix_;
};

}  // namespace sslshim::certstore

#endif  // SSLSHIM_CERTSTORE_TENANT_VIEW_H_
