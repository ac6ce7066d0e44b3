// bounded_file.h
// -----------------------------------------------------------------------------
// Reading a credential file without trusting it: the one place sslshim opens
// a file named by a user (a certificate, a key, a CA bundle, a KEK file).
//
// A hostile or mistaken path must cost an error, never a hang or unbounded
// memory: `/dev/zero` would grow without end, a FIFO would block forever in
// open(2), a directory would throw in iostreams. ReadBoundedFile refuses
// everything but regular files (reading `/proc` files works: they are
// regular), opens without blocking, and never reads more than `limit + 1`
// bytes, so the limit is checked while reading, not after EOF.
//
//   absl::StatusOr<std::string> pem = pki::ReadBoundedFile(path, 1 << 20);
//   if (!pem.ok()) return pem.status();  // names the path and the reason

#ifndef SSLSHIM_PKI_BOUNDED_FILE_H_
#define SSLSHIM_PKI_BOUNDED_FILE_H_

#include <cstddef>
#include <istream>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace sslshim::pki {

// ReadBoundedFile returns the whole content of the regular file at `path`,
// reading at most `limit + 1` bytes. The returned string is the caller's; on
// any failure the partial content is wiped (it may be key material) before
// it is freed. Errors (every message names `path`, never its content):
//   - NotFound: the file does not exist;
//   - PermissionDenied: open(2) refused access;
//   - InvalidArgument: the path is a directory, FIFO, socket or device (not
//     a regular file), the name is too long, or the file holds more than
//     `limit` bytes;
//   - Unavailable: a read error (EIO, ...).
absl::StatusOr<std::string> ReadBoundedFile(absl::string_view path, size_t limit);

// ReadBoundedStream reads `in` (e.g. std::cin for "-") to EOF but at most
// `limit + 1` bytes; `name` is used in the messages. Errors: InvalidArgument
// when more than `limit` bytes are available, Unavailable on a stream error.
// Partial content is wiped on failure.
absl::StatusOr<std::string> ReadBoundedStream(std::istream& in,
                                              absl::string_view name,
                                              size_t limit);

}  // namespace sslshim::pki

#endif  // SSLSHIM_PKI_BOUNDED_FILE_H_
