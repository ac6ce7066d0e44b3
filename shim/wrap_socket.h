// wrap_socket.h: the module-level ssl.wrap_socket(), with every parameter of
// Python's SSLSocket.__init__, for code written against Python 2.7 / App
// Engine:
//
//   absl::StatusOr<std::unique_ptr<SSLSocket>> sock = wrap_socket(fd, {
//       .keyfile = StringIO(record.key_str),
//       .certfile = StringIO(record.cert),
//       .cert_reqs = CERT_REQUIRED,
//       .ssl_version = PROTOCOL_SSLv23,
//       .ca_certs = "/etc/ca-certificates.crt"});
//   absl::Status ok = match_hostname(*(*sock)->getpeercert(), "a.hostname.com");
//
// As in Python, wrap_socket never checks the hostname itself (call
// match_hostname, or use an SSLContext with check_hostname).

#ifndef SSLSHIM_SHIM_WRAP_SOCKET_H_
#define SSLSHIM_SHIM_WRAP_SOCKET_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/optional.h"
#include "shim/constants.h"
#include "shim/credentials.h"
#include "shim/reader.h"
#include "shim/ssl_context.h"
#include "shim/ssl_socket.h"

namespace sslshim::shim {

// WrapSocketArgs: the keyword arguments of ssl.wrap_socket().
struct WrapSocketArgs {
  Source keyfile;
  Source certfile;
  bool server_side = false;
  // Unset means CERT_NONE, Python's default. (The runtime fills it from the
  // PYTHONHTTPSVERIFY toggle for client sockets.)
  absl::optional<VerifyMode> cert_reqs;
  Protocol ssl_version = PROTOCOL_TLS;
  Source ca_certs;
  bool do_handshake_on_connect = true;
  bool suppress_ragged_eofs = true;
  std::string ciphers;  // Empty: BoringSSL's defaults.
  std::string server_hostname;
  std::vector<std::string> npn_protocols;  // Served as ALPN.
  Password password;  // For an encrypted keyfile (load_cert_chain(password=)).
};

// MakeWrapContext builds the SSLContext that wrap_socket(args) would use,
// without wrapping anything (so a server can build it once and reuse it).
// Errors: those of SSLContext::Create, load_cert_chain,
// load_verify_locations, set_ciphers, set_alpn_protocols; CERT_REQUIRED or
// CERT_OPTIONAL without ca_certs is InvalidArgument ("ca_certs must be
// specified"), as Python 2.7 said.
absl::StatusOr<std::shared_ptr<SSLContext>> MakeWrapContext(
    const WrapSocketArgs& args);

// wrap_socket builds a context from `args` and wraps the connected socket
// `fd` (ownership taken in all cases; closed on error). Errors: those of
// MakeWrapContext and SSLContext::wrap_socket.
absl::StatusOr<std::unique_ptr<SSLSocket>> wrap_socket(
    int fd, const WrapSocketArgs& args = {});

}  // namespace sslshim::shim

#endif  // SSLSHIM_SHIM_WRAP_SOCKET_H_
