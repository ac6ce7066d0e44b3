// crc32c.h
// -----------------------------------------------------------------------------
// Crc32c() is CRC-32C (Castagnoli, the iSCSI/ext4 polynomial), with the SSE4.2
// instruction when the CPU has it and a table otherwise. LmdbStore uses it
// to detect damaged values on disk: fast enough to run on every read, and a
// damaged byte (or a run of up to 32 bits) is always detected. It is not a
// defence against someone who can write the file on purpose (the record
// codec and the sealed-key AEAD are).
//
//   uint32_t c = Crc32c(bytes);              // one piece
//   c = Crc32cExtend(Crc32cExtend(0, a), b);  // == Crc32c(a + b)

#ifndef SSLSHIM_CERTSTORE_CRC32C_H_
#define SSLSHIM_CERTSTORE_CRC32C_H_

#include <cstdint>

#include "absl/strings/string_view.h"

namespace sslshim::certstore {

// Crc32cExtend() continues a CRC-32C `crc` (0 to start) over `data`.
uint32_t Crc32cExtend(uint32_t crc, absl::string_view data);

// Crc32c() is the CRC-32C of `data`.
inline uint32_t Crc32c(absl::string_view data) { return Crc32cExtend(0, data); }

}  // namespace sslshim::certstore

#endif  // SSLSHIM_CERTSTORE_CRC32C_H_
