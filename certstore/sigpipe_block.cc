#include "certstore/sigpipe_block.h"

#include <pthread.h>
#include <time.h>

#include <cerrno>

namespace sslshim::certstore {
namespace {

sigset_t SigpipeSet() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGPIPE);
  return set;
}

bool SigpipePending() {
  sigset_t pending;
  sigemptyset(&pending);
  return sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1;
}

}  // namespace

ScopedSigpipeBlock::ScopedSigpipeBlock() {
  const sigset_t pipe = SigpipeSet();
  was_pending_ = SigpipePending();
  pthread_sigmask(SIG_BLOCK, &pipe, &old_mask_);
}

ScopedSigpipeBlock::~ScopedSigpipeBlock() {
  if (!was_pending_ && SigpipePending()) {
    // Consume the SIGPIPE our writes raised before unblocking it.
    const sigset_t pipe = SigpipeSet();
    const timespec zero{0, 0};
    while (sigtimedwait(&pipe, nullptr, &zero) < 0 && errno == EINTR) {
    }
  }
  pthread_sigmask(SIG_SETMASK, &old_mask_, nullptr);
}

}  // namespace sslshim::certstore
