#include "runtime/context_provider.h"

#include <utility>

namespace sslshim::runtime {
namespace {

class FixedProvider : public ContextProvider {
 public:
  explicit FixedProvider(std::shared_ptr<shim::SSLContext> context)
      : context_(std::move(context)) {}
  absl::StatusOr<std::shared_ptr<shim::SSLContext>> Current() override {
    return context_;
  }

 private:
  const std::shared_ptr<shim::SSLContext> context_;
};

class WrapArgsProvider : public ContextProvider {
 public:
  explicit WrapArgsProvider(shim::WrapSocketArgs args) : args_(std::move(args)) {
    args_.server_side = true;
  }
  absl::StatusOr<std::shared_ptr<shim::SSLContext>> Current() override {
    // args_ is only read; the ready-made readers are thread-safe.
    return shim::MakeWrapContext(args_);
  }

 private:
  shim::WrapSocketArgs args_;
};

}  // namespace

std::shared_ptr<ContextProvider> FixedContextProvider(
    std::shared_ptr<shim::SSLContext> context) {
  return std::make_shared<FixedProvider>(std::move(context));
}

std::shared_ptr<ContextProvider> WrapArgsContextProvider(
    shim::WrapSocketArgs args) {
  return std::make_shared<WrapArgsProvider>(std::move(args));
}

}  // namespace sslshim::runtime
