#include "shim/credential_cache.h"

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "shim/credentials.h"
#include "testing/cert_builder.h"
#include "testing/status_matchers.h"

namespace sslshim::shim {
namespace {

using ::sslshim::testing::KeyType;
using ::sslshim::testing::SharedTestPki;
using ::sslshim::testing::StatusIs;
using ::sslshim::testing::TestPki;
using ::testing::HasSubstr;

// Creds is one certificate chain and key as reader bytes.
struct Creds {
  std::string cert;
  std::string key;
};

Creds ServerCreds(KeyType type) {
  const TestPki& pki = SharedTestPki(type);
  return {pki.ServerChainPem(), pki.server.KeyPem()};
}

Creds ClientCreds(KeyType type) {
  const TestPki& pki = SharedTestPki(type);
  return {pki.ClientChainPem(), pki.client.KeyPem()};
}

// Counting returns a password callback that counts its calls.
Password Counting(std::string password, std::atomic<int>* calls) {
  return Password::From([password, calls]() -> absl::StatusOr<std::string> {
    ++*calls;
    return password;
  });
}

TEST(CredentialCache, HitSharesParsedObjects) {
  CredentialCache cache(8);
  Creds creds = ServerCreds(KeyType::kP256);
  ASSERT_OK_AND_ASSIGN(auto first, cache.GetCertAndKey(creds.cert, creds.key, Password::None()));
  ASSERT_OK_AND_ASSIGN(auto second,
                       cache.GetCertAndKey(creds.cert, creds.key, Password::None()));
  EXPECT_EQ(first, second);
  EXPECT_EQ(first->chain[0].get(), second->chain[0].get());
  EXPECT_EQ(first->key.get(), second->key.get());
  ASSERT_EQ(first->chain.size(), 2u);
  CredentialCache::Stats stats = cache.stats();
  EXPECT_EQ(stats.hits, 1u);
  EXPECT_EQ(stats.misses, 1u);
  EXPECT_EQ(stats.evictions, 0u);
  EXPECT_EQ(stats.entries, 1u);
}

TEST(CredentialCache, RotatedBytesMakeANewEntry) {
  CredentialCache cache(8);
  Creds old_creds = ServerCreds(KeyType::kP256);
  Creds new_creds = ServerCreds(KeyType::kRsa2048);
  ASSERT_OK_AND_ASSIGN(auto before,
                       cache.GetCertAndKey(old_creds.cert, old_creds.key, Password::None()));
  ASSERT_OK_AND_ASSIGN(auto after,
                       cache.GetCertAndKey(new_creds.cert, new_creds.key, Password::None()));
  EXPECT_NE(before, after);
  EXPECT_EQ(EVP_PKEY_id(after->key.get()), EVP_PKEY_RSA);
  EXPECT_EQ(cache.stats().entries, 2u);
  EXPECT_EQ(cache.stats().misses, 2u);
}

TEST(CredentialCache, LengthFramingSeparatesInputs) {
  // The same bytes split differently between cert and key are different keys.
  CredentialCache cache(8);
  Creds creds = ServerCreds(KeyType::kP256);
  ASSERT_OK(cache.GetCertAndKey(creds.cert + creds.key, "", Password::None()));
  ASSERT_OK(cache.GetCertAndKey(creds.cert, creds.key, Password::None()));
  EXPECT_EQ(cache.stats().entries, 2u);
  EXPECT_EQ(cache.stats().hits, 0u);
}

TEST(CredentialCache, KeyInCertfile) {
  CredentialCache cache(8);
  Creds creds = ServerCreds(KeyType::kEd25519);
  ASSERT_OK_AND_ASSIGN(auto chain,
                       cache.GetCertAndKey(creds.key + creds.cert, "", Password::None()));
  EXPECT_EQ(chain->chain.size(), 2u);
  EXPECT_THAT(cache.GetCertAndKey(creds.cert, "", Password::None()),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("certfile: no private key found")));
}

TEST(CredentialCache, LeastRecentlyUsedIsEvicted) {
  CredentialCache cache(2);
  Creds a = ServerCreds(KeyType::kP256);
  Creds b = ClientCreds(KeyType::kP256);
  Creds c = ServerCreds(KeyType::kP384);
  ASSERT_OK_AND_ASSIGN(auto a1, cache.GetCertAndKey(a.cert, a.key, Password::None()));
  ASSERT_OK(cache.GetCertAndKey(b.cert, b.key, Password::None()));
  ASSERT_OK(cache.GetCertAndKey(a.cert, a.key, Password::None()));  // a is now newest.
  ASSERT_OK(cache.GetCertAndKey(c.cert, c.key, Password::None()));  // Evicts b.
  EXPECT_EQ(cache.stats().evictions, 1u);
  EXPECT_EQ(cache.stats().entries, 2u);
  ASSERT_OK_AND_ASSIGN(auto a2, cache.GetCertAndKey(a.cert, a.key, Password::None()));
  EXPECT_EQ(a1, a2);  // Still cached.
  uint64_t misses = cache.stats().misses;
  ASSERT_OK(cache.GetCertAndKey(b.cert, b.key, Password::None()));
  EXPECT_EQ(cache.stats().misses, misses + 1);  // b was gone.
  // Evicted objects stay alive for whoever holds them.
  EXPECT_NE(a1->key.get(), nullptr);
}

TEST(CredentialCache, ParseFailuresAreNotCached) {
  CredentialCache cache(8);
  const TestPki& pki = SharedTestPki(KeyType::kP256);
  for (int i = 0; i < 2; ++i) {
    EXPECT_THAT(cache.GetCertAndKey(pki.server.CertPem(), pki.client.KeyPem(),
                                    Password::None()),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         HasSubstr("keyfile: [X509: KEY_VALUES_MISMATCH] key values mismatch")));
    EXPECT_THAT(cache.GetCertAndKey("garbage", pki.server.KeyPem(), Password::None()),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("certfile: ")));
  }
  EXPECT_EQ(cache.stats().entries, 0u);
  EXPECT_EQ(cache.stats().misses, 4u);
}

TEST(CredentialCache, EncryptedKeyHitStillNeedsThePassword) {
  CredentialCache cache(8);
  const TestPki& pki = SharedTestPki(KeyType::kRsa2048);
  std::string cert = pki.ServerChainPem();
  std::string key = pki.server.KeyPemEncrypted("s3cret");
  ASSERT_OK_AND_ASSIGN(auto first, cache.GetCertAndKey(cert, key, Password::Of("s3cret")));
  ASSERT_OK_AND_ASSIGN(auto hit, cache.GetCertAndKey(cert, key, Password::Of("s3cret")));
  EXPECT_EQ(first, hit);
  EXPECT_EQ(cache.stats().hits, 1u);

  EXPECT_THAT(cache.GetCertAndKey(cert, key, Password::Of("guess")),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("keyfile: wrong password")));
  EXPECT_THAT(cache.GetCertAndKey(cert, key, Password::None()),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("keyfile: the private key is encrypted and no password "
                                 "was given")));
  EXPECT_EQ(cache.stats().hits, 1u);
  // The wrong password did not displace the entry.
  ASSERT_OK_AND_ASSIGN(auto again, cache.GetCertAndKey(cert, key, Password::Of("s3cret")));
  EXPECT_EQ(first, again);
  EXPECT_EQ(cache.stats().entries, 1u);
}

TEST(CredentialCache, PasswordCallbackOnlyForEncryptedKeys) {
  CredentialCache cache(8);
  const TestPki& pki = SharedTestPki(KeyType::kP384);
  std::atomic<int> calls{0};
  Password password = Counting("pw", &calls);
  ASSERT_OK(cache.GetCertAndKey(pki.ServerChainPem(), pki.server.KeyPem(), password));
  ASSERT_OK(cache.GetCertAndKey(pki.ServerChainPem(), pki.server.KeyPem(), password));
  EXPECT_EQ(calls, 0);
  std::string encrypted = pki.server.KeyPemTraditionalEncrypted("pw");
  ASSERT_OK(cache.GetCertAndKey(pki.ServerChainPem(), encrypted, password));  // Miss.
  EXPECT_EQ(calls, 1);
  ASSERT_OK(cache.GetCertAndKey(pki.ServerChainPem(), encrypted, password));  // Hit.
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(cache.stats().hits, 2u);
}

TEST(CredentialCache, CallbackErrorIsPropagated) {
  CredentialCache cache(8);
  const TestPki& pki = SharedTestPki(KeyType::kP256);
  Password failing = Password::From([]() -> absl::StatusOr<std::string> {
    return absl::UnavailableError("secret store down");
  });
  EXPECT_THAT(cache.GetCertAndKey(pki.ServerChainPem(), pki.server.KeyPemEncrypted("x"),
                                  failing),
              StatusIs(absl::StatusCode::kUnavailable,
                       "keyfile: password callback failed: secret store down"));
}

TEST(CredentialCache, CaSets) {
  CredentialCache cache(8);
  const TestPki& pki = SharedTestPki(KeyType::kP256);
  ASSERT_OK_AND_ASSIGN(auto first, cache.GetCaSet(pki.RootPem(), "cadata"));
  ASSERT_OK_AND_ASSIGN(auto second, cache.GetCaSet(pki.RootPem(), "cadata"));
  EXPECT_EQ(first, second);
  EXPECT_EQ(first->certs.size(), 1u);
  ASSERT_OK_AND_ASSIGN(auto der, cache.GetCaSet(pki.root.CertDer(), "cadata"));
  EXPECT_NE(first, der);
  EXPECT_THAT(cache.GetCaSet("", "cadata"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("cadata: empty CA bundle")));
  CredentialCache::Stats stats = cache.stats();
  EXPECT_EQ(stats.hits, 1u);
  EXPECT_EQ(stats.misses, 3u);
  EXPECT_EQ(stats.entries, 2u);
  cache.Clear();
  EXPECT_EQ(cache.stats().entries, 0u);
  EXPECT_EQ(first->certs.size(), 1u);  // Holders keep their objects.
}

TEST(CredentialCache, DefaultIsOneCacheOfCapacity1024) {
  CredentialCache& cache = CredentialCache::Default();
  EXPECT_EQ(&cache, &CredentialCache::Default());
  cache.Clear();
  std::string root = SharedTestPki(KeyType::kP256).RootPem();
  uint64_t evictions = cache.stats().evictions;
  for (int i = 0; i < 1025; ++i) {
    // Text after the PEM block makes distinct bytes for the same CA.
    ASSERT_OK(cache.GetCaSet(absl::StrCat(root, "# ", i, "\n"), "cadata"));
  }
  EXPECT_EQ(cache.stats().entries, 1024u);
  EXPECT_EQ(cache.stats().evictions, evictions + 1);
  cache.Clear();
}

// Concurrent misses for the same bytes may parse more than once, but every
// caller ends up with the one cached entry.
TEST(CredentialCache, ConcurrentMissesEndWithOneEntry) {
  CredentialCache cache(16);
  Creds creds = ServerCreds(KeyType::kP256);
  constexpr int kThreads = 8;
  std::vector<std::shared_ptr<const KeyedChain>> results(kThreads);
  std::atomic<int> ready{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      ++ready;
      while (ready < kThreads) std::this_thread::yield();
      absl::StatusOr<std::shared_ptr<const KeyedChain>> r =
          cache.GetCertAndKey(creds.cert, creds.key, Password::None());
      if (r.ok()) results[t] = *r;
    });
  }
  for (std::thread& t : threads) t.join();
  for (const auto& r : results) EXPECT_EQ(r, results[0]);
  EXPECT_NE(results[0], nullptr);
  EXPECT_EQ(cache.stats().entries, 1u);
  EXPECT_EQ(cache.stats().hits + cache.stats().misses, static_cast<uint64_t>(kThreads));
}

// Eight threads mix lookups of several credentials (one encrypted, one with a
// wrong password) and CA sets on a cache small enough to evict; run under
// --config=tsan too.
TEST(CredentialCache, ConcurrentMixedAccess) {
  for (size_t capacity : {size_t{2}, size_t{64}}) {
    SCOPED_TRACE(capacity);
    CredentialCache cache(capacity);
    const TestPki& pki = SharedTestPki(KeyType::kP256);
    std::vector<Creds> creds = {ServerCreds(KeyType::kP256), ClientCreds(KeyType::kP256),
                                ServerCreds(KeyType::kEd25519),
                                {pki.ServerChainPem(), pki.server.KeyPemEncrypted("pw")}};
    std::vector<std::string> cas = {pki.RootPem(), pki.root.CertDer()};
    constexpr int kThreads = 8;
    constexpr int kIterations = 40;
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < kIterations; ++i) {
          const Creds& c = creds[(t + i) % creds.size()];
          bool encrypted = &c == &creds.back();
          bool wrong = encrypted && i % 5 == 0;
          auto r = cache.GetCertAndKey(c.cert, c.key,
                                       Password::Of(wrong ? "bad" : "pw"));
          if (r.ok() == wrong || (r.ok() && (*r)->key == nullptr)) ++failures;
          if (!cache.GetCaSet(cas[i % cas.size()], "cadata").ok()) ++failures;
          if (i % 17 == 0) cache.stats();
        }
      });
    }
    for (std::thread& t : threads) t.join();
    EXPECT_EQ(failures, 0);
    CredentialCache::Stats stats = cache.stats();
    EXPECT_LE(stats.entries, capacity);
    EXPECT_EQ(stats.hits + stats.misses, 2u * kThreads * kIterations);
    if (capacity == 64) {
      EXPECT_EQ(stats.entries, creds.size() + cas.size());
      EXPECT_EQ(stats.evictions, 0u);
    }
  }
}

}  // namespace
}  // namespace sslshim::shim
