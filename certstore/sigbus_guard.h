// sigbus_guard.h
// -----------------------------------------------------------------------------
// SigbusGuard is the safety net under LmdbStore's file-size check. A file
// mapping whose file shrinks underneath the process raises SIGBUS on the next
// access to a page past the new end; LmdbStore checks the size before every
// transaction, but a truncation between that check and the access (a few
// microseconds) would still kill the process. SigbusGuard catches SIGBUS for
// registered address ranges only: it maps a zero page over the faulting page
// (so the access completes, reading zeros), counts the fault, and returns.
// The owner sees the count change, discards what it read (DataLoss), and
// remaps the file before using it again. A SIGBUS outside every registered
// range goes to the previous handler (or the default action: the process
// dies as it would have without the guard).
//
//   SigbusGuard::Region* r = SigbusGuard::Register(map, map_size);
//   uint64_t before = r->faults();
//   ... read the mapping ...
//   if (r->faults() != before) return absl::DataLossError("...");
//   SigbusGuard::Unregister(r);
//
// Limits: only read faults on MAP_SHARED/MAP_PRIVATE file mappings are
// meaningful to catch (the zero page is read-only). The handler is installed
// once per process, when the first region is registered; a handler installed
// later by someone else that does not chain to ours takes the net away.
// Thread-safety: all functions may be called from any thread; a region must
// not be unregistered or moved while its mapping is being accessed.

#ifndef SSLSHIM_CERTSTORE_SIGBUS_GUARD_H_
#define SSLSHIM_CERTSTORE_SIGBUS_GUARD_H_

#include <signal.h>

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace sslshim::certstore {

class SigbusGuard {
 public:
  // Region is one guarded address range (a slot in a fixed global table).
  class Region {
   public:
    // faults() counts the SIGBUS faults caught in this region so far.
    uint64_t faults() const { return faults_.load(std::memory_order_acquire); }

    // Move() re-points the region at a new mapping (after a remap).
    void Move(const void* begin, size_t size);

   private:
    friend class SigbusGuard;
    std::atomic<bool> used_{false};
    std::atomic<uintptr_t> begin_{0};
    std::atomic<uintptr_t> end_{0};
    std::atomic<uint64_t> faults_{0};
  };

  // Register() guards [begin, begin + size) and installs the handler on first
  // use. Returns null when the table (64 regions) is full or the handler
  // cannot be installed; the caller then runs without the net.
  static Region* Register(const void* begin, size_t size);

  // Unregister() stops guarding `region` (null is ignored).
  static void Unregister(Region* region);

  // FindFileMapping() returns the start of this process's shared mapping of
  // the file open at `fd` that starts at offset 0 and spans `size` bytes
  // (rounded up to pages), skipping mappings guarded by regions other than
  // `self`; null when /proc/self/maps shows none. For libraries (LMDB) that
  // map a file but do not say where.
  static const void* FindFileMapping(int fd, size_t size, const Region* self);

 private:
  // OnSigbus is the SIGBUS handler (async-signal-safe).
  static void OnSigbus(int sig, siginfo_t* info, void* context);
  // Install installs OnSigbus once; false when sigaction failed.
  static bool Install();
};

}  // namespace sslshim::certstore

#endif  // SSLSHIM_CERTSTORE_SIGBUS_GUARD_H_
