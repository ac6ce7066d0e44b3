// cert_store.h
// -----------------------------------------------------------------------------
// CertStore is the record layer over any Store: it validates fields on write,
// derives metadata, seals private-key fields with the KEK, encodes records,
// and on read decodes them and unseals on request.
//
//   absl::StatusOr<std::unique_ptr<CertStore>> cs = CertStore::Create(
//       std::move(store), {.keks = {*kek}});
//   KeyPath path = *KeyPath::Of({"Employee", "asalieri", "Address", 1});
//   (*cs)->Put(path, {{"cert", cert_pem}, {"key_str", key_pem}});
//   absl::StatusOr<Record> r = (*cs)->Get(path);
//   absl::StatusOr<SecretBytes> key = (*cs)->ReadField(*r, "key_str");
//
// A refused write (validation, size, conflict) changes nothing in the store.
// Thread-safe when the underlying Store is (all of ours are).

#ifndef SSLSHIM_CERTSTORE_CERT_STORE_H_
#define SSLSHIM_CERTSTORE_CERT_STORE_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "certstore/key_path.h"
#include "certstore/record.h"
#include "certstore/sealing.h"
#include "certstore/store.h"

namespace sslshim::certstore {

// CertStoreOptions configures CertStore::Create().
struct CertStoreOptions {
  // Key-encryption keys. The first seals new writes; all of them open sealed
  // values (found by KEK id). Empty: key fields can be neither written nor
  // opened (FailedPrecondition), everything else works.
  std::vector<Kek> keks;
  // Largest encoded record accepted on write.
  size_t max_record_bytes = 1 << 20;
  // Clock for expiry checks and written_at (Unix seconds); default: now.
  std::function<int64_t()> now;
};

// PutOptions tunes one write.
struct PutOptions {
  uint64_t expected_generation = kAnyGeneration;  // See store.h.
  bool allow_expired = false;
};

// ResealReport says what CertStore::Reseal() did.
struct ResealReport {
  size_t resealed = 0;                // Records re-sealed under the new KEK.
  size_t already_current = 0;         // Already under the new KEK (resumed run).
  size_t without_keys = 0;            // No sealed fields.
  std::vector<std::string> failures;  // "<path>: <error>" per failed record.
};

// CertStore owns a Store and applies the record rules on top of it.
class CertStore {
 public:
  // Create() takes ownership of `store`. Errors: InvalidArgument (null store,
  // max_record_bytes 0).
  static absl::StatusOr<std::unique_ptr<CertStore>> Create(std::unique_ptr<Store> store,
                                                           CertStoreOptions options);

  // CreateBorrowed() is Create() over a borrowed `store`, which must outlive
  // the CertStore (e.g. a shared backend or a TenantView).
  static absl::StatusOr<std::unique_ptr<CertStore>> CreateBorrowed(
      Store* store, CertStoreOptions options);

  // Put() validates `fields` (plaintext; the caller keeps ownership and
  // should wipe key material), seals key fields and writes the record.
  // Returns the new generation. Errors: InvalidArgument (validation, record
  // too large), FailedPrecondition (key field but no KEK), Aborted
  // (generation conflict), and the Store's errors.
  absl::StatusOr<uint64_t> Put(const KeyPath& path,
                               const std::map<std::string, std::string>& fields,
                               const PutOptions& options = {});

  // Get() reads and decodes a record; key fields stay sealed. Errors:
  // NotFound, DataLoss (corrupt bytes), FailedPrecondition (newer encoding),
  // and the Store's errors. Messages name the path.
  absl::StatusOr<Record> Get(const KeyPath& path);

  // ReadField() returns a field's plaintext, unsealing key fields with the
  // matching KEK. Errors: NotFound (no such field), FailedPrecondition (no or
  // wrong KEK), DataLoss (truncated/tampered/moved sealed value).
  absl::StatusOr<SecretBytes> ReadField(const Record& record,
                                        absl::string_view field) const;

  // Delete() removes a record (compare-and-set as in Store::Delete).
  absl::Status Delete(const KeyPath& path, uint64_t expected_generation = kAnyGeneration);

  // Reseal() re-seals every key field under `prefix` with `new_kek`,
  // opening with any configured KEK. Records already under `new_kek` are
  // skipped, so an interrupted run is resumed by running it again. Each
  // record is rewritten with compare-and-set (retried on conflict).
  // Errors: only for listing failures; per-record failures are in the report.
  absl::StatusOr<ResealReport> Reseal(const KeyPath& prefix, const Kek& new_kek);

  // store() borrows the underlying Store (for List and Watch).
  Store* store() const { return store_; }

 private:
  CertStore(std::unique_ptr<Store> owned, Store* store, CertStoreOptions options);
  int64_t Now() const;
  const Kek* FindKek(absl::string_view id) const;
  absl::Status ResealOne(const KeyPath& path, const Kek& new_kek, ResealReport* report);

  std::unique_ptr<Store> owned_;  // Null when borrowed.
  Store* const store_;
  const CertStoreOptions options_;
};

}  // namespace sslshim::certstore

#endif  // SSLSHIM_CERTSTORE_CERT_STORE_H_
