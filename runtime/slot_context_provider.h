// slot_context_provider.h
// -----------------------------------------------------------------------------
// SlotContextProvider: a ContextProvider over a CredentialSlot, so an
// HttpsServer (or any accept loop) whose certificate and key live in a store
// record serves every handshake from a cached SSLContext, without a store
// round trip or any parsing, and picks up a rotated record as soon as the
// slot notices the new generation.
//
//   absl::StatusOr<std::shared_ptr<SlotContextProvider>> provider =
//       SlotContextProvider::Create(
//           cert_store, *KeyPath::Parse("Employee/asalieri/Address/1"),
//           {.verify = shim::CERT_REQUIRED, .ca = StringIO(ca_pem)});
//   auto server = HttpsServer::Start(options, *provider, handler);
//   SlotStatus s = (*provider)->status();   // generation, last error, ...
//
// Thread-safety: Current() and status() may be called from any thread.

#ifndef SSLSHIM_RUNTIME_SLOT_CONTEXT_PROVIDER_H_
#define SSLSHIM_RUNTIME_SLOT_CONTEXT_PROVIDER_H_

#include <memory>

#include "absl/status/statusor.h"
#include "certstore/cert_store.h"
#include "certstore/key_path.h"
#include "runtime/context_provider.h"
#include "runtime/credential_slot.h"
#include "shim/constants.h"
#include "shim/reader.h"

namespace sslshim::runtime {

// ServerContextRecipe: how a server context is made from a record's bytes.
struct ServerContextRecipe {
  // Client certificate policy: CERT_NONE (one-way TLS), CERT_OPTIONAL or
  // CERT_REQUIRED (mutual TLS; needs CA certificates).
  shim::VerifyMode verify = shim::CERT_NONE;
  // CA certificates to verify clients with, read at every rebuild, used when
  // the slot reads no CA field (SlotOptions::ca_field empty).
  shim::Source ca;
};

// ServerContextFactory returns a ContextFactory that builds a
// PROTOCOL_TLS_SERVER context from a record's cert and key (and CA field, or
// recipe.ca) following `recipe`. The factory's errors: load_cert_chain's,
// load_verify_locations', InvalidArgument when verification is asked for
// without CA certificates.
ContextFactory ServerContextFactory(ServerContextRecipe recipe);

class SlotContextProvider : public ContextProvider {
 public:
  // Create makes a CredentialSlot for the record at `path` of `store`
  // (borrowed; must outlive the provider) with ServerContextFactory(recipe)
  // and `options`. Errors: CredentialSlot::Create's (the record must load
  // now).
  static absl::StatusOr<std::shared_ptr<SlotContextProvider>> Create(
      certstore::CertStore* store, certstore::KeyPath path, ServerContextRecipe recipe,
      SlotOptions options = {});

  // Current returns the slot's newest good context; never fails.
  absl::StatusOr<std::shared_ptr<shim::SSLContext>> Current() override;

  // status is the slot's status (generation, last error, last change).
  SlotStatus status() const { return slot_->status(); }

  // slot is the underlying slot (e.g. to Refresh() it).
  CredentialSlot& slot() const { return *slot_; }

 private:
  explicit SlotContextProvider(std::unique_ptr<CredentialSlot> slot)
      : slot_(std::move(slot)) {}

  const std::unique_ptr<CredentialSlot> slot_;
};

}  // namespace sslshim::runtime

#endif  // SSLSHIM_RUNTIME_SLOT_CONTEXT_PROVIDER_H_
