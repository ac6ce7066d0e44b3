#include "certstore/sigbus_guard.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include <string>

#include "certstore/sigbus_death.h"
#include "gtest/gtest.h"

namespace sslshim::certstore {
namespace {

// A file of `pages` pages of 'x', mapped read-only; truncated to one page.
struct ShrunkMapping {
  explicit ShrunkMapping(int pages) {
    page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    std::string path = std::string(getenv("TEST_TMPDIR")) + "/sigbus_XXXXXX";
    fd = mkstemp(path.data());
    unlink(path.c_str());
    std::string data(pages * page, 'x');
    EXPECT_EQ(write(fd, data.data(), data.size()), static_cast<ssize_t>(data.size()));
    size = data.size();
    map = static_cast<const volatile char*>(
        mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0));
    EXPECT_EQ(ftruncate(fd, page), 0);
  }
  ~ShrunkMapping() {
    munmap(const_cast<char*>(map), size);
    close(fd);
  }
  int fd = -1;
  size_t page = 0, size = 0;
  const volatile char* map = nullptr;
};

TEST(SigbusGuardTest, ReadPastTheShrunkFileReadsZerosAndCounts) {
  ShrunkMapping m(4);
  SigbusGuard::Region* r = SigbusGuard::Register(const_cast<char*>(m.map), m.size);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(m.map[0], 'x');  // Still inside the file.
  EXPECT_EQ(r->faults(), 0u);
  EXPECT_EQ(m.map[2 * m.page + 5], 0);  // Past the end: caught, zero page.
  EXPECT_EQ(r->faults(), 1u);
  EXPECT_EQ(m.map[2 * m.page + 6], 0);  // Same page: already patched.
  EXPECT_EQ(r->faults(), 1u);
  EXPECT_EQ(m.map[3 * m.page], 0);
  EXPECT_EQ(r->faults(), 2u);
  SigbusGuard::Unregister(r);
}

// Faults in a mapping nobody registered while another region is guarded.
void FaultOutsideTheGuardedRegion() {
  ShrunkMapping guarded(2), other(2);
  SigbusGuard::Register(const_cast<char*>(guarded.map), guarded.size);
  (void)other.map[other.page + 1];
}

TEST(SigbusGuardDeathTest, FaultOutsideEveryRegionStillKills) {
  EXPECT_EXIT(FaultOutsideTheGuardedRegion(), SigbusDeath, kSigbusReport);
}

}  // namespace
}  // namespace sslshim::certstore
