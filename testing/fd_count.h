// fd_count.h: counts this process's open file descriptors, so tests can assert
// that an operation (including a failing one) leaks none.
//
//   int before = sslshim::testing::OpenFdCount();
//   ... exercise ...
//   EXPECT_EQ(sslshim::testing::OpenFdCount(), before);

#ifndef SSLSHIM_TESTING_FD_COUNT_H_
#define SSLSHIM_TESTING_FD_COUNT_H_

namespace sslshim::testing {

// OpenFdCount returns the number of entries in /proc/self/fd (excluding the
// descriptor used to list it), or -1 if /proc is unavailable.
int OpenFdCount();

}  // namespace sslshim::testing

#endif  // SSLSHIM_TESTING_FD_COUNT_H_
