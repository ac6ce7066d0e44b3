#include "testing/fd_count.h"

#include <dirent.h>

namespace sslshim::testing {

int OpenFdCount() {
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return -1;
  int count = 0;
  while (readdir(dir) != nullptr) ++count;
  closedir(dir);
  // ".", ".." and the descriptor opendir holds.
  return count - 3;
}

}  // namespace sslshim::testing
