// context_provider.h
// -----------------------------------------------------------------------------
// ContextProvider: where the HTTPS server gets the SSLContext for each new
// connection. The server calls Current() once per accepted connection, so a
// provider decides how fresh credentials are: a fixed context never changes;
// a provider over readers rebuilds on every call (rotation is seen at once);
// a store-backed provider caches the context and rebuilds it only when the
// store record's generation changes, keeping parsing off the hot path.
//
//   absl::StatusOr<std::shared_ptr<shim::SSLContext>> ctx =
//       shim::MakeWrapContext({.keyfile = StringIO(key), .certfile =
//                              StringIO(cert), .server_side = true});
//   std::shared_ptr<ContextProvider> fixed = FixedContextProvider(*ctx);
//   std::shared_ptr<ContextProvider> rotating = WrapArgsContextProvider(
//       {.keyfile = store_key_reader, .certfile = store_cert_reader,
//        .cert_reqs = shim::CERT_REQUIRED, .ca_certs = ca_reader});
//
// Thread-safety: Current() is called from every event-loop thread at once;
// implementations must be thread-safe and should not block.

#ifndef SSLSHIM_RUNTIME_CONTEXT_PROVIDER_H_
#define SSLSHIM_RUNTIME_CONTEXT_PROVIDER_H_

#include <memory>

#include "absl/status/statusor.h"
#include "shim/ssl_context.h"
#include "shim/wrap_socket.h"

namespace sslshim::runtime {

class ContextProvider {
 public:
  virtual ~ContextProvider() = default;

  // Current returns the server context to wrap the next connection with.
  // An error closes that connection (the connection event carries the
  // status); the server keeps running.
  virtual absl::StatusOr<std::shared_ptr<shim::SSLContext>> Current() = 0;
};

// FixedContextProvider always returns `context` (configured, then shared
// read-only by every loop thread).
std::shared_ptr<ContextProvider> FixedContextProvider(
    std::shared_ptr<shim::SSLContext> context);

// WrapArgsContextProvider builds a fresh context from `args` (with
// server_side forced on) with shim::MakeWrapContext at every Current(): each
// connection reads the readers again, so a rotated credential is served on
// the next connection. The facade's credential cache keeps re-parsing of
// unchanged bytes cheap, but readers are still read every time: meant for
// tests of rotation and low-rate servers. Errors: MakeWrapContext's.
std::shared_ptr<ContextProvider> WrapArgsContextProvider(
    shim::WrapSocketArgs args);

}  // namespace sslshim::runtime

#endif  // SSLSHIM_RUNTIME_CONTEXT_PROVIDER_H_
