// sigbus_death.h (testonly)
// -----------------------------------------------------------------------------
// For death tests of an unhandled SIGBUS: how the process ends depends on the
// build. Plain builds die by SIGBUS; AddressSanitizer and ThreadSanitizer
// report "BUS on unknown address" and end the process themselves (abort, or
// exit 66).
//
//   EXPECT_EXIT(TouchPastTheEnd(), SigbusDeath, kSigbusReport);

#ifndef SSLSHIM_CERTSTORE_SIGBUS_DEATH_H_
#define SSLSHIM_CERTSTORE_SIGBUS_DEATH_H_

#include <signal.h>
#include <sys/wait.h>

namespace sslshim::certstore {

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
// SigbusDeath is true for a death test child that did not exit cleanly.
inline bool SigbusDeath(int status) {
  return !WIFEXITED(status) || WEXITSTATUS(status) != 0;
}
// kSigbusReport is what the child printed (a regex for EXPECT_EXIT).
inline constexpr char kSigbusReport[] = "BUS on unknown address";
#else
// SigbusDeath is true for a death test child killed by SIGBUS.
inline bool SigbusDeath(int status) {
  return WIFSIGNALED(status) && WTERMSIG(status) == SIGBUS;
}
// kSigbusReport is what the child printed (nothing: the kernel killed it).
inline constexpr char kSigbusReport[] = "";
#endif

}  // namespace sslshim::certstore

#endif  // SSLSHIM_CERTSTORE_SIGBUS_DEATH_H_
