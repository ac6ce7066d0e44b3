#include "testing/fd_count.h"

#include <dirent.h>

#include <fstream>
#include <string>

namespace sslshim::testing {

namespace {

// Entries of `dir` other than "." and "..", or -1.
int CountEntries(const std::string& dir) {
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return -1;
  int count = 0;
  while (readdir(d) != nullptr) ++count;
  closedir(d);
  return count - 2;
}

}  // namespace

int OpenFdCount() {
  const int n = CountEntries("/proc/self/fd");
  return n < 0 ? -1 : n - 1;  // Minus the descriptor opendir held.
}

int OpenFdCountOf(int pid) {
  return CountEntries("/proc/" + std::to_string(pid) + "/fd");
}

long RssKbOf(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

}  // namespace sslshim::testing
