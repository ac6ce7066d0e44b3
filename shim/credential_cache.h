// credential_cache.h
// -----------------------------------------------------------------------------
// A bounded, thread-safe cache of parsed credentials keyed by a SHA-256
// digest of the bytes the readers returned. A thousand contexts built from the
// same reader bytes share one parsed chain and key; new bytes (a rotated key)
// miss the cache and are parsed, so rotation takes effect on the next context
// with no restart. Least-recently-used entries are evicted beyond capacity.
//
//   absl::StatusOr<std::shared_ptr<const KeyedChain>> cred =
//       CredentialCache::Default().GetCertAndKey(cert_bytes, key_bytes,
//                                                password);
//
// Entries hold parsed BoringSSL objects only (never the input bytes). A hit
// on an encrypted key still requires the same password: the entry records a
// salted SHA-256 of the password that opened it (salt random per cache), and
// a different password misses, so the parse fails with "wrong password".
//
// Thread-safety: every method may be called from any thread at once. Two
// threads missing on the same bytes may both parse; the first to finish
// stores its result and the other is handed that same entry.

#ifndef SSLSHIM_SHIM_CREDENTIAL_CACHE_H_
#define SSLSHIM_SHIM_CREDENTIAL_CACHE_H_

#include <cstddef>
#include <cstdint>
#include <memory>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "shim/credentials.h"

namespace sslshim::shim {

// KeyedChain is a parsed, verified-to-match certificate chain and key.
// Immutable once built; shared between contexts (BoringSSL objects up-ref'd).
struct KeyedChain {
  CertChain chain;                // Leaf first.
  bssl::UniquePtr<EVP_PKEY> key;  // Matches chain[0].
};

// CaSet is a parsed CA bundle.
struct CaSet {
  CertChain certs;
};

class CredentialCache {
 public:
  // Stats counts lookups since construction (GetCertAndKey and GetCaSet
  // alike; a lookup that fails before reaching the cache, e.g. no password
  // for an encrypted key, counts as neither). `entries` is the current size.
  struct Stats {
    uint64_t hits = 0;
    uint64_t misses = 0;
    uint64_t evictions = 0;
    size_t entries = 0;
  };

  // Creates a cache holding at most `capacity` entries (0 is taken as 1).
  explicit CredentialCache(size_t capacity);
  ~CredentialCache();
  CredentialCache(const CredentialCache&) = delete;
  CredentialCache& operator=(const CredentialCache&) = delete;

  // Default is the process-wide cache (capacity 1024) used by SSLContext.
  // Created on first use and never destroyed.
  static CredentialCache& Default();

  // GetCertAndKey returns the parsed chain and key for these bytes, parsing
  // (ParseCertChain + ParsePrivateKey + CheckKeyMatchesCertificate) on a
  // miss. `key_bytes` may be empty when the key is in `cert_bytes` (Python
  // allows certfile to hold both); key errors then name "certfile", else
  // "keyfile". The cache key is SHA-256 over both inputs, each framed by its
  // length. `password` is obtained (its callback called once) only when the
  // key is encrypted, on hits too. Parse errors are returned, not cached.
  // The returned entry is shared and immutable; it stays valid after
  // eviction or Clear for as long as the caller holds it.
  absl::StatusOr<std::shared_ptr<const KeyedChain>> GetCertAndKey(
      absl::string_view cert_bytes, absl::string_view key_bytes,
      const Password& password);

  // GetCaSet returns the parsed CA certificates for these bundle bytes
  // (ParseCaCertificates on a miss; errors name `argument`, not cached).
  // Keyed by SHA-256 of the bytes; shares the capacity with GetCertAndKey.
  absl::StatusOr<std::shared_ptr<const CaSet>> GetCaSet(
      absl::string_view bytes, absl::string_view argument);

  // stats returns a snapshot of the counters.
  Stats stats() const;

  // Clear drops every entry (contexts keep the objects they already hold).
  void Clear();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sslshim::shim

#endif  // SSLSHIM_SHIM_CREDENTIAL_CACHE_H_
