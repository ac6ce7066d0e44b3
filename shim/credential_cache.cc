#include "shim/credential_cache.h"

#include <array>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "openssl/mem.h"
#include "openssl/rand.h"
#include "openssl/sha.h"
#include "shim/credentials.h"
#include "shim/secure_bytes.h"

namespace sslshim::shim {
namespace {

using Digest = std::array<uint8_t, SHA256_DIGEST_LENGTH>;

void HashFramed(SHA256_CTX* ctx, absl::string_view bytes) {
  uint8_t len[8];
  uint64_t n = bytes.size();
  for (int i = 7; i >= 0; --i, n >>= 8) len[i] = static_cast<uint8_t>(n);
  SHA256_Update(ctx, len, sizeof(len));
  SHA256_Update(ctx, bytes.data(), bytes.size());
}

// CacheKey is SHA-256 over a one-byte entry kind and each input, each framed
// by its 64-bit big-endian length, so ("ab", "c") and ("a", "bc") differ.
std::string CacheKey(char kind, absl::string_view first, absl::string_view second) {
  SHA256_CTX ctx;
  SHA256_Init(&ctx);
  SHA256_Update(&ctx, &kind, 1);
  HashFramed(&ctx, first);
  HashFramed(&ctx, second);
  std::string key(SHA256_DIGEST_LENGTH, '\0');
  SHA256_Final(reinterpret_cast<uint8_t*>(key.data()), &ctx);
  return key;
}

}  // namespace

struct CredentialCache::Impl {
  struct Entry {
    std::string key;
    std::shared_ptr<const void> value;  // A KeyedChain or a CaSet.
    bool encrypted = false;
    Digest password_digest{};  // Salted digest of the password, if encrypted.
  };

  explicit Impl(size_t cap) : capacity(cap == 0 ? 1 : cap) {
    RAND_bytes(salt.data(), salt.size());
  }

  // PasswordDigest is SHA-256(salt || password): a match proves the caller
  // knows the password that opened the entry, and the salt (random per cache)
  // keeps the digest useless outside this process.
  Digest PasswordDigest(const std::string& password) const {
    Digest out;
    SHA256_CTX ctx;
    SHA256_Init(&ctx);
    SHA256_Update(&ctx, salt.data(), salt.size());
    SHA256_Update(&ctx, password.data(), password.size());
    SHA256_Final(out.data(), &ctx);
    return out;
  }

  // Matches: the entry may be given to a caller that presented `password`
  // (nullptr when the key is not encrypted).
  static bool Matches(const Entry& e, const Digest* password) {
    if (!e.encrypted) return password == nullptr;
    return password != nullptr &&
           CRYPTO_memcmp(e.password_digest.data(), password->data(), password->size()) ==
               0;
  }

  // Find returns the matching entry's value (moved to the front) or nullptr,
  // and counts the hit or miss.
  std::shared_ptr<const void> Find(const std::string& key, const Digest* password) {
    std::lock_guard<std::mutex> lock(mu);
    auto it = index.find(key);
    if (it == index.end() || !Matches(*it->second, password)) {
      ++stats.misses;
      return nullptr;
    }
    ++stats.hits;
    lru.splice(lru.begin(), lru, it->second);
    return it->second->value;
  }

  // Insert stores `value` under `key` and returns what the cache now holds for
  // it: the value another thread stored meanwhile (so racing misses end up
  // sharing one entry), or `value`. Evicts least-recently-used entries.
  std::shared_ptr<const void> Insert(const std::string& key, const Digest* password,
                                     std::shared_ptr<const void> value) {
    std::lock_guard<std::mutex> lock(mu);
    auto it = index.find(key);
    if (it != index.end()) {
      lru.splice(lru.begin(), lru, it->second);
      if (Matches(*it->second, password)) return it->second->value;
      index.erase(it);  // Opened by another password: replace below.
      lru.pop_front();
    }
    Entry entry{key, std::move(value), password != nullptr, {}};
    if (password != nullptr) entry.password_digest = *password;
    lru.push_front(std::move(entry));
    index[key] = lru.begin();
    while (lru.size() > capacity) {
      index.erase(lru.back().key);
      lru.pop_back();
      ++stats.evictions;
    }
    return lru.front().value;
  }

  const size_t capacity;
  Digest salt{};
  mutable std::mutex mu;
  std::list<Entry> lru;  // Most recently used first. Guarded by mu.
  std::unordered_map<std::string, std::list<Entry>::iterator> index;  // Guarded by mu.
  Stats stats;  // Guarded by mu (entries filled in by stats()).
};

CredentialCache::CredentialCache(size_t capacity)
    : impl_(std::make_unique<Impl>(capacity)) {}

CredentialCache::~CredentialCache() = default;

CredentialCache& CredentialCache::Default() {
  // Never destroyed: contexts may outlive static destruction order.
  static CredentialCache* const cache = new CredentialCache(1024);
  return *cache;
}

absl::StatusOr<std::shared_ptr<const KeyedChain>> CredentialCache::GetCertAndKey(
    absl::string_view cert_bytes, absl::string_view key_bytes,
    const Password& password) {
  const bool key_in_certfile = key_bytes.empty();
  const absl::string_view key_source = key_in_certfile ? cert_bytes : key_bytes;
  const absl::string_view key_argument = key_in_certfile ? "certfile" : "keyfile";
  const std::string key = CacheKey('K', cert_bytes, key_bytes);

  // The password is obtained only for an encrypted key, once, and used both
  // to check a hit and to parse on a miss.
  Password resolved;
  Digest password_digest{};
  const Digest* presented = nullptr;
  if (IsEncryptedPrivateKey(key_source)) {
    std::string secret;
    absl::Status s = ResolvePassword(password, key_argument, &secret);
    if (s.ok()) {
      password_digest = impl_->PasswordDigest(secret);
      presented = &password_digest;
    }
    resolved.value = std::move(secret);
    WipeString(secret);  // Moved-from, but short strings leave bytes behind.
    if (!s.ok()) {
      WipeString(*resolved.value);
      return s;
    }
  }
  std::shared_ptr<const void> cached = impl_->Find(key, presented);
  if (cached != nullptr) {
    if (resolved.value.has_value()) WipeString(*resolved.value);
    return std::static_pointer_cast<const KeyedChain>(cached);
  }

  auto parsed = std::make_shared<KeyedChain>();
  absl::StatusOr<CertChain> chain = ParseCertChain(cert_bytes, "certfile");
  absl::StatusOr<bssl::UniquePtr<EVP_PKEY>> pkey =
      chain.ok() ? ParsePrivateKey(key_source, resolved, key_argument)
                 : absl::StatusOr<bssl::UniquePtr<EVP_PKEY>>(chain.status());
  if (resolved.value.has_value()) WipeString(*resolved.value);
  if (!pkey.ok()) return pkey.status();
  parsed->chain = *std::move(chain);
  parsed->key = *std::move(pkey);
  absl::Status match = CheckKeyMatchesCertificate(parsed->key.get(),
                                                  parsed->chain[0].get(), key_argument);
  if (!match.ok()) return match;
  return std::static_pointer_cast<const KeyedChain>(
      impl_->Insert(key, presented, std::move(parsed)));
}

absl::StatusOr<std::shared_ptr<const CaSet>> CredentialCache::GetCaSet(
    absl::string_view bytes, absl::string_view argument) {
  const std::string key = CacheKey('C', bytes, "");
  std::shared_ptr<const void> cached = impl_->Find(key, nullptr);
  if (cached != nullptr) return std::static_pointer_cast<const CaSet>(cached);
  absl::StatusOr<CertChain> certs = ParseCaCertificates(bytes, argument);
  if (!certs.ok()) return certs.status();
  auto parsed = std::make_shared<CaSet>();
  parsed->certs = *std::move(certs);
  return std::static_pointer_cast<const CaSet>(
      impl_->Insert(key, nullptr, std::move(parsed)));
}

CredentialCache::Stats CredentialCache::stats() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  Stats out = impl_->stats;
  out.entries = impl_->lru.size();
  return out;
}

void CredentialCache::Clear() {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->index.clear();
  impl_->lru.clear();
}

}  // namespace sslshim::shim
