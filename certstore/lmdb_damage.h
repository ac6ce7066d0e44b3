// lmdb_damage.h (testonly)
// -----------------------------------------------------------------------------
// Damaging an LMDB data file the way an operator's mistake or a disk does,
// for tests of LmdbStore and the servers over it: read the file's bytes,
// write bytes back in place (same inode, so an open store sees them), flip
// bytes, and find LMDB's meta pages (format version 1, see lmdb_file_check.h).
//
//   std::string intact = ReadFileBytes(dir + "/data.mdb");
//   ASSERT_OK(FlipBytes(data, NewestMeta(intact) + kMetaMainRoot + 4, 2));
//   ...
//   ASSERT_OK(WriteFileAt(data, intact, 0));   // restored in place

#ifndef SSLSHIM_CERTSTORE_LMDB_DAMAGE_H_
#define SSLSHIM_CERTSTORE_LMDB_DAMAGE_H_

#include <sys/types.h>

#include <cstddef>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace sslshim::certstore {

// Offsets inside MDB_meta: the main database's root page number and the last
// page number.
inline constexpr size_t kMetaMainRoot = 72 + 40;
inline constexpr size_t kMetaLastPage = 120;

// ReadFileBytes() returns the whole file ("" when it cannot be read).
std::string ReadFileBytes(const std::string& path);

// WriteFileAt() writes `data` at `offset` of the existing file without
// truncating it. Errors: Internal naming the path and errno.
absl::Status WriteFileAt(const std::string& path, absl::string_view data, off_t offset);

// FlipBytes() XORs `count` bytes at `offset` of the file with 0x5A.
absl::Status FlipBytes(const std::string& path, off_t offset, size_t count);

// NewestMeta() and OlderMeta() are the file offsets of the MDB_meta structs
// of the meta page LMDB uses (higher transaction id) and of the other one,
// given the file's bytes.
size_t NewestMeta(absl::string_view file);
size_t OlderMeta(absl::string_view file);

}  // namespace sslshim::certstore

#endif  // SSLSHIM_CERTSTORE_LMDB_DAMAGE_H_
