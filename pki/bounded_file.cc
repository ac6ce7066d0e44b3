#include "pki/bounded_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "openssl/mem.h"

namespace sslshim::pki {
namespace {

void Wipe(std::string& s) {
  if (!s.empty()) OPENSSL_cleanse(s.data(), s.size());
  s.clear();
}

absl::Status TooLarge(absl::string_view name, size_t limit) {
  return absl::InvalidArgumentError(absl::StrCat(
      name, " is larger than the limit of ", limit, " bytes"));
}

// What a non-regular file is, for the message.
absl::string_view KindOf(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  return "not a regular file";
}

absl::Status OpenError(absl::string_view path, int err) {
  const std::string message =
      absl::StrCat("cannot open ", path, ": ", std::strerror(err));
  switch (err) {
    case ENOENT:
    case ENOTDIR:
      return absl::NotFoundError(message);
    case EACCES:
    case EPERM:
      return absl::PermissionDeniedError(message);
    case ENAMETOOLONG:
    case ELOOP:
    case EISDIR:
      return absl::InvalidArgumentError(message);
    default:
      return absl::UnavailableError(message);
  }
}

// Closes the descriptor on every path out of ReadBoundedFile.
class FdCloser {
 public:
  explicit FdCloser(int fd) : fd_(fd) {}
  ~FdCloser() { ::close(fd_); }
  FdCloser(const FdCloser&) = delete;
  FdCloser& operator=(const FdCloser&) = delete;

 private:
  int fd_;
};

}  // namespace

absl::StatusOr<std::string> ReadBoundedFile(absl::string_view path, size_t limit) {
  const std::string p(path);
  if (p.empty()) return absl::InvalidArgumentError("empty file name");
  // O_NONBLOCK: opening a FIFO must not wait for a writer; the type check
  // below refuses it before any read.
  int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) return OpenError(path, errno);
  FdCloser closer(fd);
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot stat ", path, ": ", std::strerror(errno)));
  }
  if (!S_ISREG(st.st_mode)) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, " is ", KindOf(st.st_mode), ", not a regular file"));
  }
  if (st.st_size > 0 && static_cast<uint64_t>(st.st_size) > limit) {
    return TooLarge(path, limit);
  }
  std::string out;
  // st_size is a hint only (/proc files say 0): read until EOF or limit + 1.
  out.reserve(st.st_size > 0 ? static_cast<size_t>(st.st_size) : 4096);
  char buf[16384];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      OPENSSL_cleanse(buf, sizeof(buf));
      Wipe(out);
      return absl::UnavailableError(
          absl::StrCat("cannot read ", path, ": ", std::strerror(err)));
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > limit) {
      OPENSSL_cleanse(buf, sizeof(buf));
      Wipe(out);
      return TooLarge(path, limit);
    }
  }
  OPENSSL_cleanse(buf, sizeof(buf));
  return out;
}

absl::StatusOr<std::string> ReadBoundedStream(std::istream& in,
                                              absl::string_view name,
                                              size_t limit) {
  std::string out;
  char buf[16384];
  while (in) {
    in.read(buf, sizeof(buf));
    const std::streamsize n = in.gcount();
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > limit) {
      OPENSSL_cleanse(buf, sizeof(buf));
      Wipe(out);
      return TooLarge(name, limit);
    }
  }
  OPENSSL_cleanse(buf, sizeof(buf));
  if (in.bad()) {
    Wipe(out);
    return absl::UnavailableError(absl::StrCat("cannot read ", name));
  }
  return out;
}

}  // namespace sslshim::pki
