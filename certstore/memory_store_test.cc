#include "certstore/memory_store.h"

#include "certstore/store_conformance.h"

namespace sslshim::certstore::testing {
namespace {

class MemoryBackend : public StoreBackend {
 public:
  Store* store() override { return store_.get(); }
  absl::Status RawWrite(const KeyPath& path, absl::string_view value) override {
    store_->RawWrite(path, std::string(value));
    return absl::OkStatus();
  }

 private:
  std::unique_ptr<MemoryStore> store_ = MemoryStore::Create();
};

INSTANTIATE_TEST_SUITE_P(
    Memory, StoreConformanceTest,
    ::testing::Values(BackendFactory{
        "memory",
        []() -> absl::StatusOr<std::unique_ptr<StoreBackend>> {
          return std::make_unique<MemoryBackend>();
        }}),
    [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace sslshim::certstore::testing
