// store_reader.h
// -----------------------------------------------------------------------------
// The bridge between certstore/ and the facade: a shim::Reader that reads one
// field of a store record at every read(), and the `store:<key path>#field`
// syntax every CLI file argument accepts.
//
//   std::shared_ptr<shim::Reader> cert =
//       StoreFieldReader(cert_store, *KeyPath::Parse("Employee/asalieri"), "cert");
//   ctx->load_cert_chain(cert, StoreFieldReader(cert_store, path, "key_str"));
//
// Because the reader reads the store each time, a context built after a
// rotation gets the new bytes (and the facade's credential cache makes the
// unchanged case cheap). For a hot path free of the store, use
// CredentialSlot (credential_slot.h), which rebuilds a context only when the
// record's generation changes.

#ifndef SSLSHIM_RUNTIME_STORE_READER_H_
#define SSLSHIM_RUNTIME_STORE_READER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "certstore/cert_store.h"
#include "certstore/key_path.h"
#include "shim/reader.h"

namespace sslshim::runtime {

// StoreFieldReader returns a reader of `field` of the record at `path`;
// sealed key fields are unsealed with the store's KEKs. `store` is borrowed
// and must outlive the reader (bind it to a tenant's view with
// CertStore::CreateBorrowed(view) so the reader cannot leave the tenant).
// read() errors are the store's (NotFound naming path and field,
// Unavailable for a store that is down, FailedPrecondition for a missing or
// wrong KEK); name() is "store:<path>#<field>".
std::shared_ptr<shim::Reader> StoreFieldReader(certstore::CertStore* store,
                                               certstore::KeyPath path,
                                               std::string field);

// StoreRef is a parsed `store:<key path>[#field]` argument.
struct StoreRef {
  certstore::KeyPath path;
  std::string field;
};

// IsStoreRef reports whether `arg` uses the `store:` syntax.
bool IsStoreRef(absl::string_view arg);

// ParseStoreRef parses "store:Employee/asalieri/Address/1#key_str"; without
// "#field" the field is `default_field`. Errors: InvalidArgument naming the
// argument (no "store:" prefix, bad key path, empty field).
absl::StatusOr<StoreRef> ParseStoreRef(absl::string_view arg,
                                       absl::string_view default_field);

// SourceFromArg turns a CLI file argument into a facade Source: a
// `store:` reference becomes a StoreFieldReader over `store` (which must be
// non-null for such arguments), anything else is a path. Errors: those of
// ParseStoreRef, FailedPrecondition for a store reference without a store.
absl::StatusOr<shim::Source> SourceFromArg(absl::string_view arg,
                                           certstore::CertStore* store,
                                           absl::string_view default_field);

}  // namespace sslshim::runtime

#endif  // SSLSHIM_RUNTIME_STORE_READER_H_
