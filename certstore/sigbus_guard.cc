#include "certstore/sigbus_guard.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <memory>
#include <mutex>

namespace sslshim::certstore {
namespace {

constexpr int kRegions = 64;
SigbusGuard::Region g_regions[kRegions];
struct sigaction g_previous;
std::atomic<bool> g_installed{false};
std::atomic<uintptr_t> g_page_size{4096};

// Passes a fault that is not ours to whoever handled SIGBUS before us.
void Chain(int sig, siginfo_t* info, void* context) {
  if (g_previous.sa_flags & SA_SIGINFO) {
    if (g_previous.sa_sigaction != nullptr) {
      g_previous.sa_sigaction(sig, info, context);
      return;
    }
  } else if (g_previous.sa_handler != SIG_DFL && g_previous.sa_handler != SIG_IGN &&
             g_previous.sa_handler != nullptr) {
    g_previous.sa_handler(sig);
    return;
  }
  // Default action: restore it; returning re-runs the access, which faults
  // again and ends the process as if no guard had been installed.
  struct sigaction dfl = {};
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  sigaction(SIGBUS, &dfl, nullptr);
}

}  // namespace

// Async-signal-safe: atomics and one raw mmap system call, errno preserved.
void SigbusGuard::OnSigbus(int sig, siginfo_t* info, void* context) {
  const int saved_errno = errno;
  const uintptr_t addr = reinterpret_cast<uintptr_t>(info->si_addr);
  for (SigbusGuard::Region& r : g_regions) {
    if (!r.used_.load(std::memory_order_acquire)) continue;
    if (addr < r.begin_.load(std::memory_order_acquire) ||
        addr >= r.end_.load(std::memory_order_acquire)) {
      continue;
    }
    const uintptr_t page = addr & ~(g_page_size.load() - 1);
    long rc = syscall(SYS_mmap, page, g_page_size.load(), PROT_READ,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    if (rc == -1) break;  // Cannot patch the page: not ours to survive.
    r.faults_.fetch_add(1, std::memory_order_acq_rel);
    errno = saved_errno;
    return;
  }
  errno = saved_errno;
  Chain(sig, info, context);
}

bool SigbusGuard::Install() {
  static std::once_flag once;
  std::call_once(once, [] {
    g_page_size.store(static_cast<uintptr_t>(sysconf(_SC_PAGESIZE)));
    struct sigaction sa = {};
    sa.sa_sigaction = OnSigbus;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGBUS, &sa, &g_previous) == 0) g_installed.store(true);
  });
  return g_installed.load();
}

void SigbusGuard::Region::Move(const void* begin, size_t size) {
  const uintptr_t b = reinterpret_cast<uintptr_t>(begin);
  end_.store(b, std::memory_order_release);  // Empty while moving.
  begin_.store(b, std::memory_order_release);
  end_.store(b + size, std::memory_order_release);
}

SigbusGuard::Region* SigbusGuard::Register(const void* begin, size_t size) {
  if (!Install()) return nullptr;
  for (Region& r : g_regions) {
    bool expected = false;
    if (r.used_.compare_exchange_strong(expected, true, std::memory_order_acq_rel)) {
      r.faults_.store(0, std::memory_order_release);
      r.Move(begin, size);
      return &r;
    }
  }
  return nullptr;
}

void SigbusGuard::Unregister(Region* region) {
  if (region == nullptr) return;
  region->Move(nullptr, 0);
  region->used_.store(false, std::memory_order_release);
}

const void* SigbusGuard::FindFileMapping(int fd, size_t size, const Region* self) {
  struct stat st;
  if (fstat(fd, &st) != 0) return nullptr;
  const uintptr_t page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  const uintptr_t want = (size + page - 1) & ~(page - 1);
  std::unique_ptr<FILE, int (*)(FILE*)> maps(fopen("/proc/self/maps", "re"), fclose);
  if (maps == nullptr) return nullptr;
  char line[4096];
  while (fgets(line, sizeof(line), maps.get()) != nullptr) {
    unsigned long begin, end, offset, inode;
    unsigned major_dev, minor_dev;
    char perms[8];
    if (sscanf(line, "%lx-%lx %7s %lx %x:%x %lu", &begin, &end, perms, &offset,
               &major_dev, &minor_dev, &inode) != 7) {
      continue;
    }
    if (offset != 0 || end - begin != want || perms[3] != 's' || inode != st.st_ino ||
        major_dev != major(st.st_dev) || minor_dev != minor(st.st_dev)) {
      continue;
    }
    bool taken = false;
    for (const Region& r : g_regions) {
      taken = taken || (&r != self && r.used_.load() && r.begin_.load() == begin);
    }
    if (!taken) return reinterpret_cast<const void*>(begin);
  }
  return nullptr;
}

}  // namespace sslshim::certstore
