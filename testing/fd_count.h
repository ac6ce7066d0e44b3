// fd_count.h: counts a process's open file descriptors (and its resident
// memory), so tests can assert that an operation (including a failing one,
// or an attack on a server in a child process) leaks none.
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

// OpenFdCountOf returns the number of open descriptors of process `pid` (the
// entries of /proc/<pid>/fd), or -1 when unreadable. For a server under test
// in a child process.
int OpenFdCountOf(int pid);

// RssKbOf returns the resident set size (VmRSS) of process `pid` in KiB, or
// -1 when unreadable.
long RssKbOf(int pid);

}  // namespace sslshim::testing

#endif  // SSLSHIM_TESTING_FD_COUNT_H_
