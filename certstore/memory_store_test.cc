#include "certstore/memory_store.h"

#include "certstore/store_conformance.h"

namespace sslshim::certstore::testing {
namespace {

class MemoryBackend : public OwnedStoreBackend<MemoryStore> {
 public:
  absl::Status Open() {
    store_ = MemoryStore::Create();
    return absl::OkStatus();
  }
};

INSTANTIATE_TEST_SUITE_P(Memory, StoreConformanceTest,
                         ::testing::Values(FactoryFor<MemoryBackend>("memory")),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace sslshim::certstore::testing
