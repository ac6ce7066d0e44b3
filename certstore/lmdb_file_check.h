// lmdb_file_check.h
// -----------------------------------------------------------------------------
// CheckLmdbDataFile() decides whether an LMDB data file (data.mdb) is whole
// enough to be mapped, WITHOUT mapping it: it reads the two meta pages with
// pread() and compares LMDB's own last page (the newest meta's mm_last_pg,
// times the page size) with the file's size. LMDB maps the file and never
// checks its size again, so a file truncated or emptied underneath a process
// turns the next page access into SIGBUS; LmdbStore runs this check before
// every transaction and refuses (DataLoss) instead.
//
//   absl::StatusOr<LmdbFileState> st = CheckLmdbDataFile(fd, "lmdb:/srv/x");
//   if (!st.ok()) return st.status();   // DataLoss: truncated, emptied, ...
//
// Both meta pages must pass: magic and version, a power-of-two page size,
// each database root either empty or a page in [2, last_pg] with a depth of
// 1..32, and (last_pg + 1) * page_size <= file size. LMDB writes data pages
// before the meta that points at them and never shrinks the file, so a
// healthy file always passes, even while another process commits.
//
// The meta layout is LMDB's on-disk format version 1 (MDB_DATA_VERSION, the
// whole 0.9 series, 64-bit builds); a file of another version is refused.

#ifndef SSLSHIM_CERTSTORE_LMDB_FILE_CHECK_H_
#define SSLSHIM_CERTSTORE_LMDB_FILE_CHECK_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace sslshim::certstore {

// LmdbFileState is what CheckLmdbDataFile() read from a healthy file.
struct LmdbFileState {
  uint64_t file_size = 0;  // Bytes, from fstat().
  uint64_t page_size = 0;  // From the meta pages.
  uint64_t last_page = 0;  // The newest meta's last used page number.
  uint64_t txnid = 0;      // The newest meta's transaction id.
  // No transaction was ever committed (both metas are LMDB's initial ones):
  // a store whose creation was interrupted, not one that lost its data.
  bool never_committed() const { return txnid == 0; }
};

// CheckLmdbDataFile() checks the data file open at `fd` (any access mode).
// `name` prefixes messages (e.g. "lmdb:/srv/x: data.mdb"). Errors: DataLoss
// naming what is wrong (empty file, shorter than its last page, bad meta
// page); Unavailable when fstat/pread fail.
absl::StatusOr<LmdbFileState> CheckLmdbDataFile(int fd, absl::string_view name);

}  // namespace sslshim::certstore

#endif  // SSLSHIM_CERTSTORE_LMDB_FILE_CHECK_H_
