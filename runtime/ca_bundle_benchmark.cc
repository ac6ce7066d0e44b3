// ca_bundle_benchmark: what it costs per context to trust the default bundle
// (140 self-signed P-256 roots, about the size of Debian's bundle):
//   BM_NewContext          SSLContext::Create alone (the baseline)
//   BM_InstallShared       + point the context at the bundle's X509_STORE
//   BM_CopyInto            + add each certificate to the context's own store
//   BM_LoadVerifyLocations + load_verify_locations(cadata=bundle bytes)
//                            (hash the bytes, cache hit, add each cert)
//
//   bazel run -c opt //runtime:ca_bundle_benchmark

#include <cstdlib>
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "runtime/ca_bundle.h"
#include "shim/ssl_context.h"
#include "testing/cert_builder.h"

namespace sslshim::runtime {
namespace {

constexpr int kRoots = 140;

const std::string& BundlePem() {
  static const std::string* pem = [] {
    auto* s = new std::string;
    for (int i = 0; i < kRoots; ++i) {
      testing::CertSpec spec{.common_name = absl::StrCat("bench root ", i),
                             .is_ca = true};
      *s += testing::Issue(spec, testing::KeyType::kP256, nullptr).CertPem();
    }
    return s;
  }();
  return *pem;
}

CaBundle& Bundle() {
  static std::shared_ptr<CaBundle>* bundle = [] {
    const char* dir = std::getenv("TMPDIR");
    std::string path = absl::StrCat(dir ? dir : "/tmp", "/ca_bundle_bench.pem");
    std::ofstream(path) << BundlePem();
    auto b = CaBundle::Create({.path = path});
    if (!b.ok() || !(*b)->Get().ok()) std::abort();
    return new std::shared_ptr<CaBundle>(*b);
  }();
  return **bundle;
}

void BM_NewContext(benchmark::State& state) {
  for (auto _ : state) {
    auto ctx = shim::SSLContext::Create(shim::PROTOCOL_TLS_CLIENT);
    benchmark::DoNotOptimize(ctx);
  }
}
BENCHMARK(BM_NewContext);

void BM_InstallShared(benchmark::State& state) {
  CaBundle& bundle = Bundle();
  for (auto _ : state) {
    auto ctx = shim::SSLContext::Create(shim::PROTOCOL_TLS_CLIENT);
    if (!bundle.InstallShared(**ctx).ok()) std::abort();
  }
}
BENCHMARK(BM_InstallShared);

void BM_CopyInto(benchmark::State& state) {
  CaBundle& bundle = Bundle();
  for (auto _ : state) {
    auto ctx = shim::SSLContext::Create(shim::PROTOCOL_TLS_CLIENT);
    if (!bundle.CopyInto(**ctx).ok()) std::abort();
  }
}
BENCHMARK(BM_CopyInto);

void BM_LoadVerifyLocations(benchmark::State& state) {
  const std::string& pem = BundlePem();
  for (auto _ : state) {
    auto ctx = shim::SSLContext::Create(shim::PROTOCOL_TLS_CLIENT);
    if (!(*ctx)->load_verify_locations({.cadata = pem}).ok()) std::abort();
  }
}
BENCHMARK(BM_LoadVerifyLocations);

}  // namespace
}  // namespace sslshim::runtime

BENCHMARK_MAIN();
