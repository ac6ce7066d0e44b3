// ca_bundle.h
// -----------------------------------------------------------------------------
// The default CA bundle: read once, parsed once (through the facade's
// CredentialCache), and shared read-only by every default context as one
// X509_STORE. The file is checked for changes (device, inode, size, mtime)
// at most once per `recheck_interval`, and re-read and re-parsed when it
// changed, so a bundle update reaches new contexts with no restart.
//
//   absl::StatusOr<std::shared_ptr<CaBundle>> bundle =
//       CaBundle::Create({.path = "/etc/ca-certificates.crt"});
//   absl::Status s = (*bundle)->InstallShared(*ctx);  // ctx: SSLContext
//
// The bundle is read lazily, on the first Get()/Install*: a runtime whose
// defaults never verify never needs one. Path precedence (decided by
// AppRuntime): SSL_CERT_FILE, then app.yaml `ca_bundle`, then
// /etc/ca-certificates.crt.
//
// Sharing vs copying (measured by ca_bundle_benchmark, 140 P-256 roots: CPU
// per context 2.2 us for SSLContext::Create alone, +~0 us InstallShared,
// +386 us CopyInto, +450 us load_verify_locations(cadata=bundle)):
// InstallShared points the context at the bundle's X509_STORE (one up-ref);
// CopyInto adds every certificate to the context's own store (a hash-table
// insert per certificate, ~2.8 us each). InstallShared is the one to use per
// connection; CopyInto is for contexts that will load more CAs of their own,
// since anything added to a shared store would be seen by every context.
//
// Thread-safety: every method may be called from any thread at once.

#ifndef SSLSHIM_RUNTIME_CA_BUNDLE_H_
#define SSLSHIM_RUNTIME_CA_BUNDLE_H_

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "openssl/base.h"
#include "openssl/x509.h"
#include "shim/credential_cache.h"
#include "shim/ssl_context.h"

namespace sslshim::runtime {

// CaBundleOptions configures a CaBundle.
struct CaBundleOptions {
  // The bundle's path (PEM certificates, or concatenated DER).
  std::string path;
  // How to point the runtime at another bundle, appended to errors.
  std::string how_to_change =
      "set SSL_CERT_FILE or `ca_bundle:` in app.yaml to a PEM CA bundle";
  // The file is stat()ed for changes at most once per interval.
  absl::Duration recheck_interval = absl::Seconds(1);
  // Clock, for tests (nullptr: absl::Now).
  std::function<absl::Time()> now;
  // The largest bundle accepted (Debian's is ~220 KB).
  size_t max_bytes = 16 << 20;
};

class CaBundle {
 public:
  // FileId identifies one version of the file.
  struct FileId {
    dev_t dev = 0;
    ino_t ino = 0;
    off_t size = 0;
    int64_t mtime_ns = 0;
    bool operator==(const FileId& o) const {
      return dev == o.dev && ino == o.ino && size == o.size && mtime_ns == o.mtime_ns;
    }
  };

  // Snapshot is one parsed version of the bundle. Immutable; the store must
  // not be modified (contexts share it).
  struct Snapshot {
    std::shared_ptr<const shim::CaSet> cas;
    bssl::UniquePtr<X509_STORE> store;  // Holds every certificate of cas.
    FileId id;
    uint64_t generation = 0;  // 1 for the first load, +1 per re-read.
  };

  // Create makes a bundle for options.path (not read yet). Errors:
  // InvalidArgument for an empty path.
  static absl::StatusOr<std::shared_ptr<CaBundle>> Create(CaBundleOptions options);

  // Get returns the current snapshot, reading the file on first use and
  // re-reading it when it changed (checked at most once per interval).
  // Errors, on the first load only (FailedPrecondition, naming the path and
  // options.how_to_change): missing or unreadable file, empty file, no
  // certificate in it, bigger than max_bytes. When a later re-read fails the
  // last good snapshot is kept and the failure is in last_error().
  absl::StatusOr<std::shared_ptr<const Snapshot>> Get();

  // InstallShared makes `ctx` verify against the bundle's shared store
  // (SSL_CTX_set_cert_store with an up-ref; the context keeps the store
  // alive). Anything the context had loaded before is replaced. Do not load
  // more CAs or CRLs into `ctx` afterwards: they would reach every context
  // sharing the store. Errors: those of Get().
  absl::Status InstallShared(shim::SSLContext& ctx);

  // CopyInto adds the bundle's certificates to `ctx`'s own store (each
  // up-ref'd, duplicates ignored). Errors: those of Get(); Internal when
  // BoringSSL cannot add a certificate.
  absl::Status CopyInto(shim::SSLContext& ctx);

  // path is the bundle's path.
  const std::string& path() const { return options_.path; }

  // loads counts successful reads+parses of the file.
  uint64_t loads() const;

  // last_error is the most recent failed re-read (OK when none, or when a
  // later re-read succeeded).
  absl::Status last_error() const;

 private:
  explicit CaBundle(CaBundleOptions options) : options_(std::move(options)) {}
  absl::Time Now() const;
  absl::Status Error(absl::string_view what) const;
  // Reads and parses the file; `id` receives its identity.
  absl::StatusOr<std::shared_ptr<const Snapshot>> Load(uint64_t generation);

  const CaBundleOptions options_;
  mutable std::mutex mu_;
  std::shared_ptr<const Snapshot> current_;       // Guarded by mu_.
  absl::Time next_check_ = absl::InfinitePast();  // Guarded by mu_.
  absl::Status last_error_;                       // Guarded by mu_.
  uint64_t loads_ = 0;                            // Guarded by mu_.
};

}  // namespace sslshim::runtime

#endif  // SSLSHIM_RUNTIME_CA_BUNDLE_H_
