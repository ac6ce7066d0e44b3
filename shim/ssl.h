// ssl.h
// -----------------------------------------------------------------------------
// The facade's public header: Python's `ssl` module in C++. Include this and
// write `ssl::` where Python code writes `ssl.`:
//
//   #include "shim/ssl.h"
//   namespace ssl = sslshim::ssl;
//
//   auto sock = ssl::wrap_socket(fd, {.keyfile = ssl::StringIO(key_pem),
//                                     .certfile = ssl::StringIO(cert_pem),
//                                     .cert_reqs = ssl::CERT_REQUIRED,
//                                     .ssl_version = ssl::PROTOCOL_SSLv23,
//                                     .ca_certs = "/etc/ca-certificates.crt"});
//   ssl::match_hostname(*(*sock)->getpeercert(), "a.hostname.com");
//
// Errors are absl::Status values; ssl::GetErrorKind(status) gives the Python
// exception kind (ssl::ErrorKind::kSSLWantReadError, ...). See errors.h.

#ifndef SSLSHIM_SHIM_SSL_H_
#define SSLSHIM_SHIM_SSL_H_

#include "shim/constants.h"
#include "shim/credential_cache.h"
#include "shim/credentials.h"
#include "shim/errors.h"
#include "shim/match_hostname.h"
#include "shim/peercert.h"
#include "shim/py_value.h"
#include "shim/reader.h"
#include "shim/ssl_context.h"
#include "shim/ssl_session.h"
#include "shim/ssl_socket.h"
#include "shim/wrap_socket.h"

namespace sslshim {
// `ssl` is the facade under Python's module name.
namespace ssl = ::sslshim::shim;
}  // namespace sslshim

#endif  // SSLSHIM_SHIM_SSL_H_
