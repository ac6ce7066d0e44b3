// pem_bundle.h
// -----------------------------------------------------------------------------
// SplitPemBundle() separates a PEM bundle (as many tools write: a private key
// and a certificate chain in one file) into the certificate blocks, in their
// order, and the private-key block.
//
//   absl::StatusOr<PemBundle> b = SplitPemBundle(stdin_text, "stdin");
//   fields["cert"] = b->certificates;  fields["key_str"] = b->private_key;

#ifndef SSLSHIM_CERTSTORE_CLI_PEM_BUNDLE_H_
#define SSLSHIM_CERTSTORE_CLI_PEM_BUNDLE_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace sslshim::certstore::cli {

// PemBundle holds the blocks of a bundle, each re-joined as PEM text.
struct PemBundle {
  std::string certificates;  // Every CERTIFICATE block, in input order.
  std::string private_key;   // The one *PRIVATE KEY block, or empty.
};

// SplitPemBundle() splits `text`; `what` names the input in errors.
// Errors: InvalidArgument for no PEM blocks, an unterminated block, more
// than one private key, or a block type other than certificate/private key.
absl::StatusOr<PemBundle> SplitPemBundle(absl::string_view text, absl::string_view what);

}  // namespace sslshim::certstore::cli

#endif  // SSLSHIM_CERTSTORE_CLI_PEM_BUNDLE_H_
