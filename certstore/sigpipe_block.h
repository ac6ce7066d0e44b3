// sigpipe_block.h
// -----------------------------------------------------------------------------
// ScopedSigpipeBlock: lets a library write to a socket it does not control
// the writes of (hiredis uses write(2), not send(MSG_NOSIGNAL)) without a
// closed peer killing the host process with SIGPIPE.
//
//   {
//     ScopedSigpipeBlock no_sigpipe;
//     reply = redisCommandArgv(ctx, ...);  // EPIPE is an error, never a signal
//   }
//
// The process's signal dispositions are left alone (a library must not
// change them): SIGPIPE is blocked in the calling thread only, a SIGPIPE the
// guarded calls raised is discarded, and the thread's mask is restored. A
// SIGPIPE already pending before the guard is left pending.

#ifndef SSLSHIM_CERTSTORE_SIGPIPE_BLOCK_H_
#define SSLSHIM_CERTSTORE_SIGPIPE_BLOCK_H_

#include <signal.h>

namespace sslshim::certstore {

// ScopedSigpipeBlock blocks SIGPIPE in this thread for its lifetime. Not
// copyable; use one per scope, on one thread.
class ScopedSigpipeBlock {
 public:
  ScopedSigpipeBlock();
  ~ScopedSigpipeBlock();
  ScopedSigpipeBlock(const ScopedSigpipeBlock&) = delete;
  ScopedSigpipeBlock& operator=(const ScopedSigpipeBlock&) = delete;

 private:
  sigset_t old_mask_;
  bool was_pending_ = false;
};

}  // namespace sslshim::certstore

#endif  // SSLSHIM_CERTSTORE_SIGPIPE_BLOCK_H_
