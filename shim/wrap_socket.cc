#include "shim/wrap_socket.h"

#include <unistd.h>

#include <utility>

#include "shim/errors.h"

namespace sslshim::shim {

absl::StatusOr<std::shared_ptr<SSLContext>> MakeWrapContext(
    const WrapSocketArgs& args) {
  const VerifyMode mode = args.cert_reqs.value_or(CERT_NONE);
  if (mode != CERT_NONE && args.ca_certs.empty()) {
    return MakeError(ErrorKind::kSSLError, absl::StatusCode::kInvalidArgument,
                     "ca_certs must be specified when cert_reqs is "
                     "CERT_OPTIONAL or CERT_REQUIRED");
  }
  if (!args.keyfile.empty() && args.certfile.empty()) {
    return MakeError(ErrorKind::kSSLError, absl::StatusCode::kInvalidArgument,
                     "certfile must be specified when keyfile is given");
  }
  absl::StatusOr<std::shared_ptr<SSLContext>> ctx =
      SSLContext::Create(args.ssl_version);
  if (!ctx.ok()) return ctx.status();
  SSLContext& c = **ctx;
  absl::Status s = c.set_verify_mode(mode);
  if (s.ok() && !args.ca_certs.empty()) {
    s = c.load_verify_locations({.cafile = args.ca_certs});
  }
  if (s.ok() && !args.certfile.empty()) {
    s = c.load_cert_chain(args.certfile, args.keyfile, args.password);
  }
  if (s.ok() && !args.ciphers.empty()) s = c.set_ciphers(args.ciphers);
  if (s.ok() && !args.npn_protocols.empty()) {
    s = c.set_alpn_protocols(args.npn_protocols);
  }
  if (!s.ok()) return s;
  return ctx;
}

absl::StatusOr<std::unique_ptr<SSLSocket>> wrap_socket(
    int fd, const WrapSocketArgs& args) {
  absl::StatusOr<std::shared_ptr<SSLContext>> ctx = MakeWrapContext(args);
  if (!ctx.ok()) {
    if (fd >= 0) ::close(fd);
    return ctx.status();
  }
  return (*ctx)->wrap_socket(
      fd, {.server_side = args.server_side,
           .do_handshake_on_connect = args.do_handshake_on_connect,
           .suppress_ragged_eofs = args.suppress_ragged_eofs,
           .server_hostname = args.server_hostname});
}

}  // namespace sslshim::shim
