// socket_bio.h
// -----------------------------------------------------------------------------
// A BoringSSL BIO over a socket descriptor that never raises SIGPIPE.
//
// BoringSSL's own fd BIO (`SSL_set_fd`) writes with write(2): a peer that
// closes its end while we still have data to send kills the whole process
// with SIGPIPE unless the process ignores it. A library must not change the
// process's signal dispositions, so every facade socket uses this BIO
// instead: it writes with send(2) and MSG_NOSIGNAL, and turns a closed peer
// into EPIPE, which the facade reports as the connection's error.
//
//   bssl::UniquePtr<BIO> bio = NewSocketBio(fd);
//   SSL_set_bio(ssl, bio.get(), bio.get());  // takes one reference per side
//
// Thread-safety: a BIO belongs to the SSL it is attached to (one thread at a
// time), like the SSL itself.

#ifndef SSLSHIM_SHIM_SOCKET_BIO_H_
#define SSLSHIM_SHIM_SOCKET_BIO_H_

#include "openssl/bio.h"
#include "openssl/base.h"

namespace sslshim::shim {

// NewSocketBio returns a new BIO that reads from and writes to `fd` without
// ever raising SIGPIPE. The BIO borrows `fd`: it never closes it (the caller,
// e.g. an SSLSocket, owns the descriptor). Reads use recv(2) (read(2) when
// `fd` is not a socket) and writes send(2) with MSG_NOSIGNAL (write(2) when
// not a socket). Would-block errors set the BIO's retry flags, so SSL_get_error
// reports SSL_ERROR_WANT_READ/WRITE; other errors leave errno for the caller.
// `BIO_get_fd` returns `fd`. Returns nullptr only when allocation fails.
bssl::UniquePtr<BIO> NewSocketBio(int fd);

}  // namespace sslshim::shim

#endif  // SSLSHIM_SHIM_SOCKET_BIO_H_
