// store_conformance.h
// -----------------------------------------------------------------------------
// Test-only: the one parameterized suite every Store backend must pass. A
// backend's test instantiates it with a factory for that backend:
//
//   INSTANTIATE_TEST_SUITE_P(
//       Memory, StoreConformanceTest,
//       ::testing::Values(BackendFactory{"memory", [] { return ...; }}),
//       [](const auto& info) { return info.param.name; });

#ifndef SSLSHIM_CERTSTORE_STORE_CONFORMANCE_H_
#define SSLSHIM_CERTSTORE_STORE_CONFORMANCE_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "certstore/store.h"
#include "gtest/gtest.h"

namespace sslshim::certstore::testing {

// StoreBackend gives the suite one fresh, empty store and a way to write raw
// bytes behind its back (to simulate corruption).
class StoreBackend {
 public:
  virtual ~StoreBackend() = default;
  // store() is owned by the backend and lives as long as it.
  virtual Store* store() = 0;
  // RawWrite() stores `value` at `path` bypassing all checks.
  virtual absl::Status RawWrite(const KeyPath& path, absl::string_view value) = 0;
};

// OwnedStoreBackend is a StoreBackend owning an `S` that has
// `absl::Status RawWrite(const KeyPath&, absl::string_view)`. Subclasses add
// `absl::Status Open()` that sets store_.
template <typename S>
class OwnedStoreBackend : public StoreBackend {
 public:
  Store* store() override { return store_.get(); }
  absl::Status RawWrite(const KeyPath& path, absl::string_view value) override {
    return store_->RawWrite(path, value);
  }

 protected:
  std::unique_ptr<S> store_;
};

// BackendFactory names a backend and makes fresh instances of it.
struct BackendFactory {
  std::string name;
  std::function<absl::StatusOr<std::unique_ptr<StoreBackend>>()> make;
};

// FactoryFor() makes a BackendFactory for a backend type `B` with a default
// constructor and `absl::Status Open()`.
template <typename B>
BackendFactory FactoryFor(std::string name) {
  return BackendFactory{std::move(name),
                        []() -> absl::StatusOr<std::unique_ptr<StoreBackend>> {
                          auto b = std::make_unique<B>();
                          absl::Status s = b->Open();
                          if (!s.ok()) return s;
                          return std::unique_ptr<StoreBackend>(std::move(b));
                        }};
}

// ExpectExactlyOneWriterWins() creates `path`, then for `rounds` rounds lets
// every writer (one thread each; the same Store may appear several times)
// put with the generation they all read, and expects exactly one success
// and ABORTED for all the others.
void ExpectExactlyOneWriterWins(const std::vector<Store*>& writers, const KeyPath& path,
                                int rounds);

// StoreConformanceTest is the fixture; tests are in store_conformance.cc.
class StoreConformanceTest : public ::testing::TestWithParam<BackendFactory> {
 protected:
  void SetUp() override;
  Store* store() { return backend_->store(); }
  StoreBackend* backend() { return backend_.get(); }

 private:
  std::unique_ptr<StoreBackend> backend_;
};

}  // namespace sslshim::certstore::testing

#endif  // SSLSHIM_CERTSTORE_STORE_CONFORMANCE_H_
