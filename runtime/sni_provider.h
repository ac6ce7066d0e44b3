// sni_provider.h
// -----------------------------------------------------------------------------
// SniProvider: one server terminating TLS for many tenants. For each
// ClientHello it picks the certificate for the SNI name from the store's
// hostname index (sni_index.h: exact and *.wildcard names), with a bounded
// LRU cache of parsed contexts so the steady state does no store round trip
// and no PEM parsing. Unknown names are refused with an unrecognized_name
// alert, and the server-side handshake error (hence the HttpsServer's
// ConnectionEvent) says "no certificate for '<name>' in the SNI index".
// A client without SNI gets the default context's certificate.
//
//   absl::StatusOr<std::shared_ptr<SniProvider>> sni = SniProvider::Create(
//       cert_store.get(), default_ctx, {.cache_capacity = 4096});
//   // default_ctx now has the SNI callback; serve it as usual:
//   HttpsServer::Create({... .contexts = FixedContextProvider(default_ctx)});
//
// Freshness: a watch thread follows the store; a change to a cached tenant's
// record (or to the index) evicts the affected entries, so a rotated
// certificate is served on the next handshake after the change is seen.
// Tenant contexts take only the certificate and key (SSL_set_SSL_CTX):
// versions, verify mode, ALPN and session tickets stay those of the default
// context.
//
// Thread-safety: the callback runs on every server thread at once; the cache
// is guarded by one mutex and parsing happens outside it.

#ifndef SSLSHIM_RUNTIME_SNI_PROVIDER_H_
#define SSLSHIM_RUNTIME_SNI_PROVIDER_H_

#include <condition_variable>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "certstore/cert_store.h"
#include "shim/ssl_context.h"

namespace sslshim::runtime {

// SniProviderOptions configures an SniProvider.
struct SniProviderOptions {
  // Parsed tenant contexts kept (least recently used evicted first). >= 1.
  size_t cache_capacity = 1024;
  // Record fields holding the certificate chain (PEM) and the private key.
  std::string cert_field = "cert";
  std::string key_field = "key_str";
  // Follow the store with a watch thread (off: entries never go stale until
  // evicted; for tests of the cache alone).
  bool watch = true;
  // The watch thread's wait per Next().
  absl::Duration watch_poll = absl::Milliseconds(200);
};

// SniStats: counters since Create().
struct SniStats {
  uint64_t hits = 0;           // Served from the cache.
  uint64_t misses = 0;         // Loaded from the store (then cached).
  uint64_t evictions = 0;      // Dropped for capacity.
  uint64_t invalidations = 0;  // Dropped because the store changed.
  uint64_t unknown_names = 0;  // Refused: not in the index.
  uint64_t load_errors = 0;    // Index hit but the record did not load.
  uint64_t no_sni = 0;         // Handshakes without SNI (default context).
  size_t size = 0;             // Entries cached now.
};

class SniProvider : public std::enable_shared_from_this<SniProvider> {
 public:
  // Create installs the SNI callback on `default_context` (a server context
  // with the certificate for clients that send no SNI) and starts the watch
  // thread. `cert_store` must outlive the provider. The context holds only a
  // weak reference to the provider: keep the provider alive while serving.
  // Errors: InvalidArgument (null argument, capacity 0), the store's Watch.
  static absl::StatusOr<std::shared_ptr<SniProvider>> Create(
      certstore::CertStore* cert_store,
      std::shared_ptr<shim::SSLContext> default_context,
      SniProviderOptions options = {});

  // Stops the watch thread.
  ~SniProvider();
  SniProvider(const SniProvider&) = delete;
  SniProvider& operator=(const SniProvider&) = delete;

  // ContextFor returns the tenant context for `hostname`, from the cache or
  // built from the store. Errors: NotFound for a name not in the index;
  // the record's load errors (missing field, wrong KEK, bad PEM) otherwise.
  absl::StatusOr<std::shared_ptr<shim::SSLContext>> ContextFor(
      absl::string_view hostname);

  // Invalidate drops every cached entry (e.g. after a bulk import).
  void Invalidate();

  SniStats Stats() const;
  const std::shared_ptr<shim::SSLContext>& default_context() const {
    return default_context_;
  }

 private:
  struct Entry {
    std::string hostname;
    std::string record;  // Canonical path of the record it came from.
    std::shared_ptr<shim::SSLContext> context;
  };

  SniProvider(certstore::CertStore* cert_store,
              std::shared_ptr<shim::SSLContext> default_context,
              SniProviderOptions options);
  absl::Status OnSni(shim::SSLSocket& sock, const absl::optional<std::string>& name);
  absl::StatusOr<Entry> Load(const std::string& hostname);
  // Drops entries for `record` (all entries when empty). Caller holds mu_.
  void DropLocked(absl::string_view record);
  void Watch(std::shared_ptr<certstore::Watcher> watcher);

  certstore::CertStore* const cert_store_;
  const std::shared_ptr<shim::SSLContext> default_context_;
  const SniProviderOptions options_;

  mutable std::mutex mu_;
  std::list<Entry> lru_;  // Most recently used first. Guarded by mu_.
  std::unordered_map<std::string, std::list<Entry>::iterator> index_;  // mu_.
  SniStats stats_;  // Guarded by mu_ (size computed on read).

  std::mutex run_mu_;
  bool stopping_ = false;  // Guarded by run_mu_.
  std::thread watcher_;
};

}  // namespace sslshim::runtime

#endif  // SSLSHIM_RUNTIME_SNI_PROVIDER_H_
