#include "runtime/sandbox.h"

#include <dirent.h>
#include <fcntl.h>
#include <seccomp.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"

namespace sslshim::runtime {
namespace {

std::atomic<bool> g_installed{false};

// Flag bits that make an open(2) family call write-capable. Each bit is its
// own rule (rules on one syscall are OR-ed), so "any of them set" is denied;
// O_ACCMODE == 3 is caught by both access-mode bits. O_TMPFILE includes
// O_DIRECTORY, so only its private bit is tested.
constexpr uint64_t kWriteOpenFlags[] = {
    O_WRONLY, O_RDWR, O_CREAT, O_TRUNC, O_APPEND, O_TMPFILE & ~O_DIRECTORY,
};

// How a listed system call is refused.
enum class Deny {
  kAlways,      // every call fails with EPERM.
  kWriteFlags,  // fails with EPERM when the flags argument has a write bit.
  kEnosys,      // every call fails with ENOSYS (see openat2 in sandbox.h).
};

struct DeniedCall {
  const char* name;
  Deny deny = Deny::kAlways;
  int flags_arg = -1;  // kWriteFlags: index of the open flags argument.
  // Number to use when this libseccomp is older than the system call. Only
  // calls numbered from 424 up, which every architecture shares.
  int generic_nr = -1;
};

// The filter, in order. Grouped by what the calls would change.
constexpr DeniedCall kDenied[] = {
    // Opening for writing or creating.
    {"open", Deny::kWriteFlags, 1},
    {"openat", Deny::kWriteFlags, 2},
    {"open_by_handle_at", Deny::kWriteFlags, 2},
    {"openat2", Deny::kEnosys, -1, 437},
    {"creat"},
    {"name_to_handle_at"},
    {"memfd_create"},
    // io_uring can open and write files without passing through this filter.
    {"io_uring_setup"},
    // Names: create, rename, remove.
    {"rename"},
    {"renameat"},
    {"renameat2"},
    {"unlink"},
    {"unlinkat"},
    {"rmdir"},
    {"mkdir"},
    {"mkdirat"},
    {"mknod"},
    {"mknodat"},
    {"link"},
    {"linkat"},
    {"symlink"},
    {"symlinkat"},
    // Contents and size.
    {"truncate"},
    {"ftruncate"},
    {"fallocate"},
    // copy_file_range only ever writes into a regular file.
    {"copy_file_range"},
    // Metadata: mode, owner, times, extended attributes.
    {"chmod"},
    {"fchmod"},
    {"fchmodat"},
    {"fchmodat2", Deny::kAlways, -1, 452},
    {"chown"},
    {"fchown"},
    {"lchown"},
    {"fchownat"},
    {"utime"},
    {"utimes"},
    {"utimensat"},
    {"futimesat"},
    {"setxattr"},
    {"lsetxattr"},
    {"fsetxattr"},
    {"setxattrat", Deny::kAlways, -1, 463},
    {"removexattr"},
    {"lremovexattr"},
    {"fremovexattr"},
    {"removexattrat", Deny::kAlways, -1, 466},
    // Mounts (they would change what paths resolve to).
    {"mount"},
    {"umount2"},
    {"pivot_root"},
    {"fsopen"},
    {"fsconfig"},
    {"fsmount"},
    {"fspick"},
    {"open_tree"},
    {"move_mount"},
    {"mount_setattr", Deny::kAlways, -1, 442},
    // Calls that make the kernel write into a named file.
    {"acct"},
    {"swapon"},
    {"swapoff"},
};

std::string ErrnoText(int err) {
  const char* name = strerrorname_np(err);
  return absl::StrCat(name != nullptr ? name : "errno", " (", err, ": ", std::strerror(err), ")");
}

// SyscallNumber resolves `call` for the native architecture; -1 when the
// call does not exist there (e.g. "open" on aarch64), so there is nothing
// to deny.
int SyscallNumber(const DeniedCall& call) {
  int nr = seccomp_syscall_resolve_name(call.name);
  if (nr == __NR_SCMP_ERROR) {
#if defined(__x86_64__) || defined(__aarch64__)
    return call.generic_nr;  // Newer than this libseccomp.
#else
    return -1;
#endif
  }
  return nr < 0 ? -1 : nr;  // Negative: a pseudo-number, absent here.
}

struct FilterDeleter {
  void operator()(void* ctx) const { seccomp_release(ctx); }
};
using Filter = std::unique_ptr<void, FilterDeleter>;

absl::Status AddRules(scmp_filter_ctx ctx) {
  for (const DeniedCall& call : kDenied) {
    const int nr = SyscallNumber(call);
    if (nr < 0) continue;
    int rc = 0;
    switch (call.deny) {
      case Deny::kAlways:
        rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 0);
        break;
      case Deny::kEnosys:
        rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), nr, 0);
        break;
      case Deny::kWriteFlags:
        for (uint64_t bit : kWriteOpenFlags) {
          const scmp_arg_cmp cmp = {static_cast<unsigned>(call.flags_arg), SCMP_CMP_MASKED_EQ, bit,
                                    bit};
          rc = seccomp_rule_add_array(ctx, SCMP_ACT_ERRNO(EPERM), nr, 1, &cmp);
          if (rc != 0) break;
        }
        break;
    }
    if (rc != 0) {
      return absl::InternalError(
          absl::StrCat("seccomp_rule_add(", call.name, ") failed: ", ErrnoText(-rc)));
    }
  }
  return absl::OkStatus();
}

absl::Status SetAttr(scmp_filter_ctx ctx, scmp_filter_attr attr, uint32_t value,
                     absl::string_view attr_name) {
  int rc = seccomp_attr_set(ctx, attr, value);
  if (rc == 0) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat(
      "no-write sandbox unavailable: seccomp_attr_set(", attr_name, ") failed: ", ErrnoText(-rc)));
}

// OpenFds lists the process's open descriptors: from /proc/self/fd, or, when
// /proc is not mounted, by probing every descriptor below RLIMIT_NOFILE.
std::vector<int> OpenFds() {
  std::vector<int> fds;
  if (DIR* dir = opendir("/proc/self/fd")) {
    const int own = dirfd(dir);
    while (dirent* entry = readdir(dir)) {
      if (entry->d_name[0] == '.') continue;
      const int fd = std::atoi(entry->d_name);
      if (fd != own) fds.push_back(fd);
    }
    closedir(dir);
    return fds;
  }
  rlimit limit{};
  rlim_t max = 65536;
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < max) {
    max = limit.rlim_cur;
  }
  for (int fd = 0; static_cast<rlim_t>(fd) < max; ++fd) {
    if (fcntl(fd, F_GETFD) != -1) fds.push_back(fd);
  }
  return fds;
}

// WritableFileFds returns the descriptors open for writing on a regular file
// or block device that `options` does not exempt.
std::vector<int> WritableFileFds(const SandboxOptions& options) {
  std::vector<int> out;
  for (int fd : OpenFds()) {
    if (std::count(options.allowed_writable_fds.begin(), options.allowed_writable_fds.end(), fd) >
        0) {
      continue;
    }
    const int fl = fcntl(fd, F_GETFL);
    if (fl == -1 || (fl & O_PATH) != 0 || (fl & O_ACCMODE) == O_RDONLY) continue;
    struct stat st {};
    if (fstat(fd, &st) != 0) continue;
    if (S_ISREG(st.st_mode) || S_ISBLK(st.st_mode)) out.push_back(fd);
  }
  return out;
}

std::string DescribeFd(int fd) {
  char target[512];
  const std::string link = absl::StrCat("/proc/self/fd/", fd);
  ssize_t n = readlink(link.c_str(), target, sizeof(target) - 1);
  return absl::StrCat("fd ", fd, " -> ",
                      n > 0 ? std::string(target, static_cast<size_t>(n)) : std::string("?"));
}

absl::Status HandleWritableFds(const SandboxOptions& options) {
  if (options.inherited_writable_files == InheritedWritableFiles::kAllow) {
    return absl::OkStatus();
  }
  std::vector<int> fds = WritableFileFds(options);
  if (fds.empty()) return absl::OkStatus();
  if (options.inherited_writable_files == InheritedWritableFiles::kClose) {
    for (int fd : fds) close(fd);
    return absl::OkStatus();
  }
  std::vector<std::string> names;
  for (int fd : fds) names.push_back(DescribeFd(fd));
  return absl::FailedPreconditionError(
      absl::StrCat("no-write sandbox: the process holds file descriptors open for writing "
                   "on files, whose writes the filter cannot refuse: ",
                   absl::StrJoin(names, ", "),
                   ". Close them before installing, or set "
                   "SandboxOptions::inherited_writable_files to kClose or kAllow."));
}

}  // namespace

absl::Status InstallNoWriteSandbox(const SandboxOptions& options) {
  absl::Status fds = HandleWritableFds(options);
  if (!fds.ok()) return fds;

  // API level 2 = the kernel supports SECCOMP_FILTER_FLAG_TSYNC.
  const unsigned api = seccomp_api_get();
  if (api < 2) {
    return absl::FailedPreconditionError(
        absl::StrCat("no-write sandbox unavailable: seccomp_api_get() = ", api,
                     " (need >= 2: seccomp filters with thread sync); kernel or libseccomp "
                     "too old, or seccomp disabled"));
  }
  Filter filter(seccomp_init(SCMP_ACT_ALLOW));
  if (filter == nullptr) {
    return absl::FailedPreconditionError(
        "no-write sandbox unavailable: seccomp_init(SCMP_ACT_ALLOW) failed");
  }
  scmp_filter_ctx ctx = filter.get();
  absl::Status st = SetAttr(ctx, SCMP_FLTATR_CTL_NNP, 1, "SCMP_FLTATR_CTL_NNP");
  if (st.ok()) {
    st = SetAttr(ctx, SCMP_FLTATR_CTL_TSYNC, 1, "SCMP_FLTATR_CTL_TSYNC");
  }
  if (st.ok()) {
    st = SetAttr(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_ERRNO(ENOSYS), "SCMP_FLTATR_ACT_BADARCH");
  }
  if (st.ok()) st = AddRules(ctx);
  if (!st.ok()) return st;

  const int rc = seccomp_load(ctx);
  if (rc != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("no-write sandbox unavailable: seccomp_load failed: ", ErrnoText(-rc),
                     " (ESRCH: another thread runs under a different seccomp filter; "
                     "EINVAL/EACCES: seccomp filters disabled or not permitted)"));
  }
  g_installed.store(true, std::memory_order_release);

  // Close what another thread may have opened between the scan and the load.
  if (options.inherited_writable_files == InheritedWritableFiles::kClose) {
    for (int fd : WritableFileFds(options)) close(fd);
  }
  return absl::OkStatus();
}

bool NoWriteSandboxInstalled() { return g_installed.load(std::memory_order_acquire); }

std::vector<std::string> DeniedSyscalls() {
  std::vector<std::string> names;
  for (const DeniedCall& call : kDenied) {
    switch (call.deny) {
      case Deny::kAlways:
        names.emplace_back(call.name);
        break;
      case Deny::kWriteFlags:
        names.push_back(absl::StrCat(call.name, " (write flags)"));
        break;
      case Deny::kEnosys:
        names.push_back(absl::StrCat(call.name, " (ENOSYS)"));
        break;
    }
  }
  return names;
}

}  // namespace sslshim::runtime
