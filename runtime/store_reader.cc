#include "runtime/store_reader.h"

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace sslshim::runtime {
namespace {

constexpr absl::string_view kPrefix = "store:";

class FieldReader : public shim::Reader {
 public:
  FieldReader(certstore::CertStore* store, certstore::KeyPath path,
              std::string field)
      : store_(store), path_(std::move(path)), field_(std::move(field)) {}

  absl::StatusOr<std::string> read() override {
    absl::StatusOr<certstore::Record> record = store_->Get(path_);
    if (!record.ok()) return record.status();
    absl::StatusOr<certstore::SecretBytes> value =
        store_->ReadField(*record, field_);
    if (!value.ok()) return value.status();
    // The facade wipes this copy after parsing; SecretBytes wipes its own.
    return std::string(value->view());
  }

  std::string name() const override {
    return absl::StrCat(kPrefix, path_.ToString(), "#", field_);
  }

 private:
  certstore::CertStore* const store_;
  const certstore::KeyPath path_;
  const std::string field_;
};

}  // namespace

std::shared_ptr<shim::Reader> StoreFieldReader(certstore::CertStore* store,
                                               certstore::KeyPath path,
                                               std::string field) {
  return std::make_shared<FieldReader>(store, std::move(path), std::move(field));
}

bool IsStoreRef(absl::string_view arg) { return absl::StartsWith(arg, kPrefix); }

absl::StatusOr<StoreRef> ParseStoreRef(absl::string_view arg,
                                       absl::string_view default_field) {
  if (!IsStoreRef(arg)) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", arg, "' is not a store reference (store:<key path>[#field])"));
  }
  absl::string_view rest = arg.substr(kPrefix.size());
  std::string field(default_field);
  const size_t hash = rest.rfind('#');
  if (hash != absl::string_view::npos) {
    field = std::string(rest.substr(hash + 1));
    rest = rest.substr(0, hash);
  }
  if (field.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", arg, "': empty field name after '#'"));
  }
  absl::StatusOr<certstore::KeyPath> path = certstore::KeyPath::Parse(rest);
  if (!path.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", arg, "': ", path.status().message()));
  }
  if (path->empty()) {
    return absl::InvalidArgumentError(absl::StrCat("'", arg, "': empty key path"));
  }
  return StoreRef{*std::move(path), std::move(field)};
}

absl::StatusOr<shim::Source> SourceFromArg(absl::string_view arg,
                                           certstore::CertStore* store,
                                           absl::string_view default_field) {
  if (!IsStoreRef(arg)) return shim::Source(std::string(arg));
  absl::StatusOr<StoreRef> ref = ParseStoreRef(arg, default_field);
  if (!ref.ok()) return ref.status();
  if (store == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("'", arg, "' needs a store (--store or SSLSHIM_STORE)"));
  }
  return shim::Source(StoreFieldReader(store, std::move(ref->path), std::move(ref->field)));
}

}  // namespace sslshim::runtime
