// sni_index.h
// -----------------------------------------------------------------------------
// The store's hostname index for SNI: one small record per DNS name a
// certificate record serves, pointing at that record.
//
//   Layout: SNI/<reversed hostname>  ->  canonical key path of the record
//     www.example.com    ->  SNI/com.example.www
//     *.example.com      ->  SNI/com.example.*   (wildcard: one left label)
//   Names are lower-cased and a trailing dot is dropped. Index values are
//   plain bytes in the Store (not CertStore records; nothing secret).
//
//   absl::StatusOr<uint64_t> gen = cert_store->Put(tenant, fields);
//   IndexRecord(*cert_store, *cert_store->Get(tenant));   // on import
//   RebuildSniIndex(*cert_store, KeyPath());              // or all at once
//   absl::StatusOr<KeyPath> record = LookupSni(*store, "a.example.com");
//
// Lookup tries the exact name, then the wildcard for its parent domain
// ("*.example.com" for "a.example.com"; never for a bare "example.com" and
// never across more than one label), as RFC 6125 matching does.
// Thread-safe when the store is.

#ifndef SSLSHIM_RUNTIME_SNI_INDEX_H_
#define SSLSHIM_RUNTIME_SNI_INDEX_H_

#include <cstddef>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "certstore/cert_store.h"
#include "certstore/key_path.h"
#include "certstore/record.h"
#include "certstore/store.h"

namespace sslshim::runtime {

// kSniIndexKind is the kind of every index record ("SNI").
inline constexpr char kSniIndexKind[] = "SNI";

// SniIndexPath returns the index path for `hostname` (exact or "*.domain").
// Errors: InvalidArgument for an empty name, an IP literal-free check is not
// done here, a wildcard other than a whole left-most label, or a name the
// key path cannot hold.
absl::StatusOr<certstore::KeyPath> SniIndexPath(absl::string_view hostname);

// IndexRecord writes an index entry for every "DNS:" SAN of `record`'s
// metadata (last writer wins for a name served by two records). Returns how
// many names were indexed. Errors: the store's.
absl::StatusOr<size_t> IndexRecord(certstore::Store& store,
                                   const certstore::Record& record);

// RebuildSniIndex indexes every certificate record under `prefix` (the root
// for all), skipping the index itself and records without DNS names. Returns
// the number of names indexed. Errors: the store's; a record that does not
// decode is skipped and counted in *skipped when given.
absl::StatusOr<size_t> RebuildSniIndex(certstore::CertStore& cert_store,
                                       const certstore::KeyPath& prefix,
                                       size_t* skipped = nullptr);

// LookupSni returns the record serving `hostname` (exact, then wildcard).
// Errors: NotFound ("no certificate for <name> in the SNI index"),
// InvalidArgument for a malformed name, the store's errors.
absl::StatusOr<certstore::KeyPath> LookupSni(certstore::Store& store,
                                             absl::string_view hostname);

}  // namespace sslshim::runtime

#endif  // SSLSHIM_RUNTIME_SNI_INDEX_H_
