#include "certstore/lmdb_damage.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "absl/base/internal/endian.h"
#include "absl/strings/str_cat.h"

namespace sslshim::certstore {
namespace {

constexpr size_t kMetaAt = 16;                // After the page header.
constexpr size_t kPageSizeAt = kMetaAt + 24;  // mm_dbs[FREE].md_pad.
constexpr size_t kTxnIdAt = 128;

bool SecondIsNewest(absl::string_view file, size_t page) {
  return absl::little_endian::Load64(file.data() + page + kMetaAt + kTxnIdAt) >
         absl::little_endian::Load64(file.data() + kMetaAt + kTxnIdAt);
}

}  // namespace

std::string ReadFileBytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

absl::Status WriteFileAt(const std::string& path, absl::string_view data, off_t offset) {
  int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return absl::InternalError(absl::StrCat(path, ": ", strerror(errno)));
  ssize_t n = pwrite(fd, data.data(), data.size(), offset);
  int saved = errno;
  close(fd);
  if (n != static_cast<ssize_t>(data.size())) {
    return absl::InternalError(absl::StrCat(path, ": short write: ", strerror(saved)));
  }
  return absl::OkStatus();
}

absl::Status FlipBytes(const std::string& path, off_t offset, size_t count) {
  std::string bytes = ReadFileBytes(path).substr(offset, count);
  for (char& c : bytes) c ^= 0x5A;
  return WriteFileAt(path, bytes, offset);
}

size_t NewestMeta(absl::string_view file) {
  const size_t page = absl::little_endian::Load32(file.data() + kPageSizeAt);
  return (SecondIsNewest(file, page) ? page : 0) + kMetaAt;
}

size_t OlderMeta(absl::string_view file) {
  const size_t page = absl::little_endian::Load32(file.data() + kPageSizeAt);
  return (SecondIsNewest(file, page) ? 0 : page) + kMetaAt;
}

}  // namespace sslshim::certstore
