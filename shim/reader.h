// reader.h
// -----------------------------------------------------------------------------
// File-like readers: the way credentials reach the facade without files.
// A Reader is anything whose read() returns the whole content, as App Engine's
// ssl.wrap_socket accepted StringIO objects for keyfile/certfile/ca_certs.
// Every credential argument of the facade is a Source: a path or a reader.
//
//   ctx->load_cert_chain({.certfile = StringIO(record.cert),
//                         .keyfile = EnvReader("APP_TLS_KEY")});
//   ctx->load_verify_locations({.cafile = "/etc/ca-certificates.crt"});
//
// Readers are read when a context is built (load_* calls), never later, and
// the bytes they return are wiped after parsing. Thread-safety: the
// ready-made readers are safe to read from several threads at once.

#ifndef SSLSHIM_SHIM_READER_H_
#define SSLSHIM_SHIM_READER_H_

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "shim/secure_bytes.h"

namespace sslshim::shim {

// Reader is the file-like interface: read() returns the whole content.
class Reader {
 public:
  virtual ~Reader() = default;

  // read returns the entire content, or an error saying why it cannot. It may
  // be called more than once (each call returns the current content).
  virtual absl::StatusOr<std::string> read() = 0;

  // read_at_most is read() for a caller that will refuse more than `limit`
  // bytes: a reader that streams (a file) stops after `limit + 1` bytes
  // instead of reading to EOF, so `/dev/zero` costs nothing. The default
  // calls read(); the caller still checks the size.
  virtual absl::StatusOr<std::string> read_at_most(size_t limit) {
    (void)limit;
    return read();
  }


  // name describes the reader in error messages without revealing content,
  // e.g. "StringIO", "file /etc/app/key.pem", "env APP_TLS_KEY".
  virtual std::string name() const = 0;
};

// StringIO returns a reader over an in-memory copy of `content`. The copy is
// wiped when the reader is destroyed.
std::shared_ptr<Reader> StringIO(std::string content);

// FileReader returns a reader that opens `path` read-only (O_RDONLY|O_CLOEXEC)
// at each read(). Only regular files are read: a directory, FIFO, socket or
// device (`/dev/zero`) is an InvalidArgument error, never a hang or unbounded
// memory; read() stops at kMaxFileReadBytes, read_at_most(n) at n + 1 bytes.
// Errors: NotFound / PermissionDenied / InvalidArgument / Unavailable naming
// the path.
std::shared_ptr<Reader> FileReader(std::string path);

// EnvReader returns a reader of the environment variable `variable`. Errors:
// NotFound when the variable is unset.
std::shared_ptr<Reader> EnvReader(std::string variable);

// CallableReader returns a reader that calls `fn` at each read(); `name` is
// used in error messages.
std::shared_ptr<Reader> CallableReader(
    std::string name, std::function<absl::StatusOr<std::string>()> fn);

// Source is a credential argument: empty (not given), a filesystem path, or a
// reader. It converts implicitly from a path string or a reader so calls read
// like Python's (`certfile = "cert.pem"` or `certfile = StringIO(pem)`).
class Source {
 public:
  Source() = default;
  Source(const char* path)
      : path_(path == nullptr ? "" : path), has_path_(path != nullptr) {}
  Source(std::string path) : path_(std::move(path)), has_path_(true) {}
  Source(std::shared_ptr<Reader> reader) : reader_(std::move(reader)) {}

  // empty is true when neither a path nor a reader was given.
  bool empty() const { return !has_path_ && reader_ == nullptr; }
  bool is_path() const { return has_path_; }
  const std::string& path() const { return path_; }
  const std::shared_ptr<Reader>& reader() const { return reader_; }

  // Describe names the source for error messages ("file /x.pem", "StringIO").
  std::string Describe() const;

 private:
  std::string path_;
  bool has_path_ = false;
  std::shared_ptr<Reader> reader_;
};

// kDefaultReadLimit is the most bytes a credential source may return (1 MiB).
inline constexpr size_t kDefaultReadLimit = 1 << 20;

// kMaxFileReadBytes bounds FileReader::read() when the caller gives no limit.
inline constexpr size_t kMaxFileReadBytes = size_t{256} << 20;

// ReadSource reads `source` completely into wiped-on-destruction memory.
// `argument` names the parameter in errors ("certfile", "ca_certs"). Errors
// (all kind SSLError): InvalidArgument when the source is empty, the reader
// returned no bytes or more than `limit` bytes; the reader's own error
// (prefixed with the argument and reader name) when read() fails.
absl::StatusOr<SecureBytes> ReadSource(const Source& source,
                                       absl::string_view argument,
                                       size_t limit = kDefaultReadLimit);

}  // namespace sslshim::shim

#endif  // SSLSHIM_SHIM_READER_H_
