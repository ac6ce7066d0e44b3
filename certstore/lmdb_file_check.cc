#include "certstore/lmdb_file_check.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include "absl/base/internal/endian.h"
#include "absl/strings/str_cat.h"

namespace sslshim::certstore {
namespace {

// LMDB 0.9 on-disk layout (mdb.c: MDB_page, MDB_meta, MDB_db), 64-bit.
constexpr size_t kPageHeaderBytes = 16;  // pgno(8) pad(2) flags(2) lower(2) upper(2)
constexpr size_t kMetaBytes = 136;
constexpr uint16_t kPageFlagMeta = 0x08;  // P_META
constexpr uint32_t kMagic = 0xBEEFC0DE;   // MDB_MAGIC
constexpr uint32_t kDataVersion = 1;      // MDB_DATA_VERSION
constexpr uint64_t kInvalidPage = ~uint64_t{0};
constexpr uint64_t kMaxDepth = 32;  // CURSOR_STACK
// Offsets inside MDB_meta.
constexpr size_t kMagicAt = 0, kVersionAt = 4, kMapSizeAt = 16, kDbsAt = 24;
constexpr size_t kDbBytes = 48, kLastPageAt = 120, kTxnIdAt = 128;
// Offsets inside MDB_db.
constexpr size_t kPadAt = 0, kDepthAt = 6, kRootAt = 40;
// A map size this large only comes from a damaged meta page.
constexpr uint64_t kMaxMapSize = uint64_t{1} << 40;

struct Meta {
  uint64_t page_size = 0;
  uint64_t map_size = 0;
  uint64_t last_page = 0;
  uint64_t txnid = 0;
  uint64_t root[2] = {0, 0};
  uint64_t depth[2] = {0, 0};
};

uint16_t Load16(const char* p) { return absl::little_endian::Load16(p); }
uint32_t Load32(const char* p) { return absl::little_endian::Load32(p); }
uint64_t Load64(const char* p) { return absl::little_endian::Load64(p); }

constexpr size_t kMetaPageBytes = kPageHeaderBytes + kMetaBytes;
// The usual page size: both meta pages come in one pread.
constexpr size_t kCommonPageSize = 4096;

// Parses meta page `index` from the `n` bytes read at `page`; fills `meta` or
// says what is wrong.
absl::Status ParseMeta(const char* page, ssize_t n, int index, absl::string_view name,
                       Meta* meta) {
  auto bad = [&](absl::string_view what) {
    return absl::DataLossError(
        absl::StrCat(name, ": meta page ", index, " is damaged (", what, ")"));
  };
  if (n < static_cast<ssize_t>(kMetaPageBytes)) return bad("short read");
  if (Load64(page) != static_cast<uint64_t>(index) ||
      !(Load16(page + 10) & kPageFlagMeta)) {
    return bad("page header");
  }
  const char* m = page + kPageHeaderBytes;
  if (Load32(m + kMagicAt) != kMagic) return bad("not an LMDB meta page: bad magic");
  if (Load32(m + kVersionAt) != kDataVersion) return bad("unsupported LMDB version");
  meta->page_size = Load32(m + kDbsAt + kPadAt);
  meta->map_size = Load64(m + kMapSizeAt);
  meta->last_page = Load64(m + kLastPageAt);
  meta->txnid = Load64(m + kTxnIdAt);
  for (int db = 0; db < 2; ++db) {
    const char* d = m + kDbsAt + db * kDbBytes;
    meta->root[db] = Load64(d + kRootAt);
    meta->depth[db] = Load16(d + kDepthAt);
  }
  const uint64_t ps = meta->page_size;
  if (ps < 512 || ps > 65536 || (ps & (ps - 1)) != 0) return bad("page size");
  if (meta->last_page < 1 || meta->last_page > kMaxMapSize / ps) {
    return bad("last page number");
  }
  if (meta->map_size > kMaxMapSize) return bad("map size");
  for (int db = 0; db < 2; ++db) {
    const bool empty = meta->root[db] == kInvalidPage;
    if (empty ? meta->depth[db] != 0
              : meta->root[db] < 2 || meta->root[db] > meta->last_page ||
                    meta->depth[db] < 1 || meta->depth[db] > kMaxDepth) {
      return bad(db == 0 ? "free-list root" : "main root");
    }
  }
  return absl::OkStatus();
}

absl::Status ReadError(absl::string_view name) {
  return absl::UnavailableError(
      absl::StrCat(name, ": cannot read the meta pages: ", strerror(errno)));
}

}  // namespace

absl::StatusOr<LmdbFileState> CheckLmdbDataFile(int fd, absl::string_view name) {
  struct stat st;
  if (fstat(fd, &st) != 0) {
    return absl::UnavailableError(absl::StrCat(name, ": fstat: ", strerror(errno)));
  }
  LmdbFileState state;
  state.file_size = static_cast<uint64_t>(st.st_size);
  if (state.file_size == 0) {
    return absl::DataLossError(absl::StrCat(
        name,
        " is empty (0 bytes): the store was emptied or truncated; restore it "
        "from a backup (it is not treated as a new, empty store)"));
  }
  Meta metas[2];
  char buf[kCommonPageSize + kMetaPageBytes];
  ssize_t n = pread(fd, buf, sizeof(buf), 0);
  if (n < 0) return ReadError(name);
  absl::Status s = ParseMeta(buf, n, 0, name, &metas[0]);
  if (s.ok() && metas[0].page_size == kCommonPageSize) {
    s = ParseMeta(buf + kCommonPageSize, n - static_cast<ssize_t>(kCommonPageSize), 1,
                  name, &metas[1]);
  } else if (s.ok()) {
    n = pread(fd, buf, kMetaPageBytes, static_cast<off_t>(metas[0].page_size));
    if (n < 0) return ReadError(name);
    s = ParseMeta(buf, n, 1, name, &metas[1]);
  }
  if (!s.ok()) {
    if (state.file_size < 2 * 4096) {
      return absl::DataLossError(absl::StrCat(name, " is only ", state.file_size,
                                              " bytes, shorter than its meta pages: "
                                              "truncated; restore it from a backup"));
    }
    return s;
  }
  if (metas[0].page_size != metas[1].page_size) {
    return absl::DataLossError(
        absl::StrCat(name, ": the meta pages disagree on the page size (damaged)"));
  }
  const Meta& newest = metas[metas[0].txnid < metas[1].txnid ? 1 : 0];
  state.page_size = newest.page_size;
  state.last_page = newest.last_page;
  state.txnid = newest.txnid;
  for (const Meta& m : metas) {
    const uint64_t needed = (m.last_page + 1) * m.page_size;
    if (needed > state.file_size) {
      return absl::DataLossError(
          absl::StrCat(name, " is ", state.file_size, " bytes but LMDB's last page ",
                       m.last_page, " ends at byte ", needed,
                       ": the file was truncated; restore it from a backup"));
    }
  }
  return state;
}

}  // namespace sslshim::certstore
