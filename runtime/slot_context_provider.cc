#include "runtime/slot_context_provider.h"

#include <string>
#include <utility>

#include "shim/ssl_context.h"

namespace sslshim::runtime {

ContextFactory ServerContextFactory(ServerContextRecipe recipe) {
  return [recipe = std::move(recipe)](const CredentialBytes& bytes)
             -> absl::StatusOr<std::shared_ptr<shim::SSLContext>> {
    absl::StatusOr<std::shared_ptr<shim::SSLContext>> ctx =
        shim::SSLContext::Create(shim::PROTOCOL_TLS_SERVER);
    if (!ctx.ok()) return ctx.status();
    absl::Status s =
        (*ctx)->load_cert_chain(shim::StringIO(std::string(bytes.cert.view())),
                                shim::StringIO(std::string(bytes.key.view())));
    if (!s.ok()) return s;
    if (recipe.verify == shim::CERT_NONE) return ctx;
    shim::Source ca = bytes.ca.size() > 0
                          ? shim::Source(shim::StringIO(std::string(bytes.ca.view())))
                          : recipe.ca;
    if (ca.empty()) {
      return absl::InvalidArgumentError(
          "verifying client certificates needs CA certificates");
    }
    s = (*ctx)->load_verify_locations({.cafile = ca});
    if (!s.ok()) return s;
    s = (*ctx)->set_verify_mode(recipe.verify);
    if (!s.ok()) return s;
    return ctx;
  };
}

absl::StatusOr<std::shared_ptr<SlotContextProvider>> SlotContextProvider::Create(
    certstore::CertStore* store, certstore::KeyPath path, ServerContextRecipe recipe,
    SlotOptions options) {
  absl::StatusOr<std::unique_ptr<CredentialSlot>> slot =
      CredentialSlot::Create(store, std::move(path),
                             ServerContextFactory(std::move(recipe)), std::move(options));
  if (!slot.ok()) return slot.status();
  return std::shared_ptr<SlotContextProvider>(new SlotContextProvider(*std::move(slot)));
}

absl::StatusOr<std::shared_ptr<shim::SSLContext>> SlotContextProvider::Current() {
  return slot_->Current();
}

}  // namespace sslshim::runtime
