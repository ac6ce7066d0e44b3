#include "certstore/cert_store.h"

#include <time.h>

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "certstore/validation.h"

namespace sslshim::certstore {
namespace {

absl::Status WithPath(const KeyPath& path, const Store& store, const absl::Status& s) {
  return absl::Status(s.code(), absl::StrCat("record ", path.ToString(), " in ",
                                             store.Describe(), ": ", s.message()));
}

}  // namespace

CertStore::CertStore(std::unique_ptr<Store> owned, Store* store, CertStoreOptions options)
    : owned_(std::move(owned)), store_(store), options_(std::move(options)) {}

absl::StatusOr<std::unique_ptr<CertStore>> CertStore::Create(std::unique_ptr<Store> store,
                                                             CertStoreOptions options) {
  Store* raw = store.get();
  absl::StatusOr<std::unique_ptr<CertStore>> cs = CreateBorrowed(raw, std::move(options));
  if (cs.ok()) (*cs)->owned_ = std::move(store);
  return cs;
}

absl::StatusOr<std::unique_ptr<CertStore>> CertStore::CreateBorrowed(
    Store* store, CertStoreOptions options) {
  if (store == nullptr) return absl::InvalidArgumentError("store is null");
  if (options.max_record_bytes == 0) {
    return absl::InvalidArgumentError("max_record_bytes must be > 0");
  }
  return std::unique_ptr<CertStore>(new CertStore(nullptr, store, std::move(options)));
}

int64_t CertStore::Now() const {
  return options_.now ? options_.now() : static_cast<int64_t>(time(nullptr));
}

const Kek* CertStore::FindKek(absl::string_view id) const {
  for (const Kek& k : options_.keks) {
    if (k.id() == id) return &k;
  }
  return nullptr;
}

absl::StatusOr<uint64_t> CertStore::Put(const KeyPath& path,
                                        const std::map<std::string, std::string>& fields,
                                        const PutOptions& options) {
  absl::StatusOr<RecordMetadata> md = ValidateFields(
      fields, ValidationOptions{.allow_expired = options.allow_expired, .now = Now()});
  if (!md.ok()) return WithPath(path, *store_, md.status());
  Record record;
  record.metadata = *std::move(md);
  for (const auto& [name, value] : fields) {
    Field& f = record.fields[name];
    if (!IsKeyField(name, value)) {
      f.value = value;
      continue;
    }
    if (options_.keks.empty()) {
      return absl::FailedPreconditionError(
          absl::StrCat("record ", path.ToString(), ": field ", name,
                       " holds a private key but no KEK is configured; refusing to store "
                       "it unsealed (set SSLSHIM_KEK or pass --kek-file)"));
    }
    absl::StatusOr<std::string> sealed = Seal(options_.keks.front(), path, name, value);
    if (!sealed.ok()) return sealed.status();
    f.value = *std::move(sealed);
    f.sealed = true;
  }
  std::string bytes = EncodeRecord(record);
  if (bytes.size() > options_.max_record_bytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("record ", path.ToString(), " is ", bytes.size(),
                     " bytes encoded, over the limit of ", options_.max_record_bytes,
                     " (max_record_bytes); nothing was written"));
  }
  return store_->Put(path, bytes, options.expected_generation);
}

absl::StatusOr<Record> CertStore::Get(const KeyPath& path) {
  absl::StatusOr<StoreEntry> e = store_->Get(path);
  if (!e.ok()) return e.status();
  absl::StatusOr<Record> r = DecodeRecord(e->value);
  if (!r.ok()) return WithPath(path, *store_, r.status());
  r->path = path;
  r->generation = e->generation;
  return r;
}

absl::StatusOr<SecretBytes> CertStore::ReadField(const Record& record,
                                                 absl::string_view field) const {
  auto it = record.fields.find(std::string(field));
  if (it == record.fields.end()) {
    return absl::NotFoundError(
        absl::StrCat("record ", record.path.ToString(), " has no field ", field));
  }
  if (!it->second.sealed) return SecretBytes(it->second.value);
  const Kek* kek = nullptr;
  absl::StatusOr<std::string> id = SealedKekId(it->second.value);
  if (id.ok()) kek = FindKek(*id);
  if (kek == nullptr && !options_.keks.empty()) kek = &options_.keks.front();
  return Unseal(kek, record.path, field, it->second.value);
}

absl::Status CertStore::Delete(const KeyPath& path, uint64_t expected_generation) {
  return store_->Delete(path, expected_generation);
}

absl::Status CertStore::ResealOne(const KeyPath& path, const Kek& new_kek,
                                  ResealReport* report) {
  for (int attempt = 0;; ++attempt) {
    absl::StatusOr<Record> r = Get(path);
    if (absl::IsNotFound(r.status())) return absl::OkStatus();  // Deleted.
    if (!r.ok()) return r.status();
    bool any_sealed = false, changed = false;
    for (auto& [name, field] : r->fields) {
      if (!field.sealed) continue;
      any_sealed = true;
      absl::StatusOr<std::string> id = SealedKekId(field.value);
      if (!id.ok()) return id.status();
      if (*id == new_kek.id()) continue;
      absl::StatusOr<SecretBytes> plain = ReadField(*r, name);
      if (!plain.ok()) return plain.status();
      absl::StatusOr<std::string> sealed = Seal(new_kek, path, name, plain->view());
      if (!sealed.ok()) return sealed.status();
      field.value = *std::move(sealed);
      changed = true;
    }
    if (!any_sealed) {
      ++report->without_keys;
      return absl::OkStatus();
    }
    if (!changed) {
      ++report->already_current;
      return absl::OkStatus();
    }
    absl::StatusOr<uint64_t> g = store_->Put(path, EncodeRecord(*r), r->generation);
    if (g.ok()) {
      ++report->resealed;
      return absl::OkStatus();
    }
    if (!absl::IsAborted(g.status()) || attempt >= 5) return g.status();
  }
}

absl::StatusOr<ResealReport> CertStore::Reseal(const KeyPath& prefix,
                                               const Kek& new_kek) {
  ResealReport report;
  std::string cursor;
  do {
    absl::StatusOr<ListPage> page = store_->List(prefix, 500, cursor);
    if (!page.ok()) return page.status();
    for (const KeyPath& path : page->paths) {
      absl::Status s = ResealOne(path, new_kek, &report);
      if (!s.ok()) {
        report.failures.push_back(absl::StrCat(path.ToString(), ": ", s.message()));
      }
    }
    cursor = page->next_cursor;
  } while (!cursor.empty());
  return report;
}

}  // namespace sslshim::certstore
