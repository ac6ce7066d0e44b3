// Tests of the no-write sandbox. The filter is irreversible, so every test
// installs it in a forked child (RunInForkedChild) and asserts in the parent
// on what the child reported; the test process itself never runs filtered.

#include "runtime/sandbox.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "runtime/forked_child.h"
#include "testing/status_matchers.h"

namespace sslshim::runtime {
namespace {

using ::sslshim::runtime::testing::ChildReporter;
using ::sslshim::runtime::testing::ChildResult;
using ::sslshim::runtime::testing::FreshTempDir;
using ::sslshim::runtime::testing::ListDir;
using ::sslshim::runtime::testing::Outcome;
using ::sslshim::runtime::testing::RunInForkedChild;
using ::sslshim::testing::IsOk;
using ::sslshim::testing::StatusIs;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr char kOriginal[] = "original contents\n";
constexpr long kSysOpenat2 = 437;
constexpr long kSysFchmodat2 = 452;

// Fixture is one directory holding "existing" (kOriginal, mode 0644) and an
// empty "subdir", made by the parent before the child runs.
struct Fixture {
  std::string dir;
  std::string existing() const { return dir + "/existing"; }
  std::string subdir() const { return dir + "/subdir"; }
  std::string fresh() const { return dir + "/fresh"; }  // Never exists.
};

Fixture MakeFixture(const std::string& parent, const std::string& name) {
  Fixture f{parent + "/" + name};
  EXPECT_EQ(mkdir(f.dir.c_str(), 0755), 0);
  EXPECT_EQ(mkdir(f.subdir().c_str(), 0755), 0);
  std::ofstream(f.existing()) << kOriginal;
  EXPECT_EQ(chmod(f.existing().c_str(), 0644), 0);
  return f;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// ExpectUntouched asserts that nothing in `f` changed and nothing appeared.
void ExpectUntouched(const Fixture& f, const std::string& op) {
  EXPECT_THAT(ListDir(f.dir), ElementsAre("existing", "subdir")) << op;
  EXPECT_THAT(ListDir(f.subdir()), IsEmpty()) << op;
  EXPECT_EQ(ReadFile(f.existing()), kOriginal) << op;
  struct stat st {};
  ASSERT_EQ(stat(f.existing().c_str(), &st), 0) << op;
  EXPECT_EQ(st.st_mode & 07777, 0644u) << op;
}

// WithReadFd runs `fn` on a read-only descriptor of f.existing().
long WithReadFd(const Fixture& f, const std::function<long(int)>& fn) {
  int fd = open(f.existing().c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  long rc = fn(fd);
  int saved = errno;
  close(fd);
  errno = saved;
  return rc;
}

long CloseIfOpen(long fd) {
  if (fd >= 0) close(static_cast<int>(fd));
  return fd;
}

long FopenOutcome(const std::string& path, const char* mode) {
  FILE* file = std::fopen(path.c_str(), mode);
  if (file == nullptr) return -1;
  std::fclose(file);
  return 0;
}

// A write-ish operation. `control` is its outcome without the filter, in a
// child that is not sandboxed (empty: not run there: privileged, or its
// outcome depends on the filesystem).
struct WriteOp {
  const char* name;
  std::function<long(const Fixture&)> run;
  const char* sandboxed = "EPERM";
  const char* control = "ok";
};

std::vector<WriteOp> WriteOps() {
  return {
      {"open O_WRONLY|O_CREAT",
       [](const Fixture& f) {
         return CloseIfOpen(open(f.fresh().c_str(), O_WRONLY | O_CREAT, 0644));
       }},
      {"open O_WRONLY",
       [](const Fixture& f) { return CloseIfOpen(open(f.existing().c_str(), O_WRONLY)); }},
      {"open O_RDWR",
       [](const Fixture& f) { return CloseIfOpen(open(f.existing().c_str(), O_RDWR)); }},
      {"open O_RDONLY|O_TRUNC",
       [](const Fixture& f) { return CloseIfOpen(open(f.existing().c_str(), O_RDONLY | O_TRUNC)); },
       "EPERM", ""},  // Would truncate.
      {"open O_RDONLY|O_APPEND",
       [](const Fixture& f) {
         return CloseIfOpen(open(f.existing().c_str(), O_RDONLY | O_APPEND));
       }},
      {"open O_RDONLY|O_CREAT",
       [](const Fixture& f) {
         return CloseIfOpen(open(f.fresh().c_str(), O_RDONLY | O_CREAT, 0644));
       }},
      {"open O_TMPFILE",
       [](const Fixture& f) { return CloseIfOpen(open(f.dir.c_str(), O_TMPFILE | O_RDWR, 0600)); }},
      {"syscall open",
       [](const Fixture& f) {
         return CloseIfOpen(syscall(SYS_open, f.fresh().c_str(), O_WRONLY | O_CREAT, 0644));
       }},
      {"syscall openat",
       [](const Fixture& f) {
         return CloseIfOpen(
             syscall(SYS_openat, AT_FDCWD, f.fresh().c_str(), O_RDWR | O_CREAT | O_EXCL, 0644));
       }},
      {"openat2 (read-only)",
       [](const Fixture& f) {
         struct {
           uint64_t flags, mode, resolve;
         } how = {O_RDONLY, 0, 0};
         return CloseIfOpen(
             syscall(kSysOpenat2, AT_FDCWD, f.existing().c_str(), &how, sizeof(how)));
       },
       "ENOSYS"},
      {"creat", [](const Fixture& f) { return CloseIfOpen(creat(f.fresh().c_str(), 0644)); }},
      {"fopen w", [](const Fixture& f) { return FopenOutcome(f.fresh(), "w"); }},
      {"fopen a", [](const Fixture& f) { return FopenOutcome(f.existing(), "a"); }},
      {"fopen r+", [](const Fixture& f) { return FopenOutcome(f.existing(), "r+"); }},
      {"rename",
       [](const Fixture& f) {
         return static_cast<long>(rename(f.existing().c_str(), f.fresh().c_str()));
       }},
      {"renameat",
       [](const Fixture& f) {
         return static_cast<long>(
             renameat(AT_FDCWD, f.existing().c_str(), AT_FDCWD, f.fresh().c_str()));
       }},
      {"renameat2",
       [](const Fixture& f) {
         return static_cast<long>(renameat2(AT_FDCWD, f.existing().c_str(), AT_FDCWD,
                                            f.fresh().c_str(), RENAME_NOREPLACE));
       }},
      {"unlink", [](const Fixture& f) { return static_cast<long>(unlink(f.existing().c_str())); }},
      {"unlinkat",
       [](const Fixture& f) {
         return static_cast<long>(unlinkat(AT_FDCWD, f.existing().c_str(), 0));
       }},
      {"unlinkat AT_REMOVEDIR",
       [](const Fixture& f) {
         return static_cast<long>(unlinkat(AT_FDCWD, f.subdir().c_str(), AT_REMOVEDIR));
       }},
      {"rmdir", [](const Fixture& f) { return static_cast<long>(rmdir(f.subdir().c_str())); }},
      {"mkdir", [](const Fixture& f) { return static_cast<long>(mkdir(f.fresh().c_str(), 0755)); }},
      {"mkdirat",
       [](const Fixture& f) {
         return static_cast<long>(mkdirat(AT_FDCWD, f.fresh().c_str(), 0755));
       }},
      {"mkfifo",
       [](const Fixture& f) { return static_cast<long>(mkfifo(f.fresh().c_str(), 0600)); }},
      {"syscall mknod",
       [](const Fixture& f) { return syscall(SYS_mknod, f.fresh().c_str(), S_IFREG | 0600, 0); }},
      {"link",
       [](const Fixture& f) {
         return static_cast<long>(link(f.existing().c_str(), f.fresh().c_str()));
       }},
      {"linkat",
       [](const Fixture& f) {
         return static_cast<long>(
             linkat(AT_FDCWD, f.existing().c_str(), AT_FDCWD, f.fresh().c_str(), 0));
       }},
      {"symlink",
       [](const Fixture& f) {
         return static_cast<long>(symlink(f.existing().c_str(), f.fresh().c_str()));
       }},
      {"symlinkat",
       [](const Fixture& f) {
         return static_cast<long>(symlinkat(f.existing().c_str(), AT_FDCWD, f.fresh().c_str()));
       }},
      {"truncate",
       [](const Fixture& f) { return static_cast<long>(truncate(f.existing().c_str(), 0)); }},
      {"ftruncate (read-only fd)",
       [](const Fixture& f) {
         return WithReadFd(f, [](int fd) { return static_cast<long>(ftruncate(fd, 0)); });
       },
       "EPERM", "EINVAL"},
      {"fallocate (read-only fd)",
       [](const Fixture& f) {
         return WithReadFd(f, [](int fd) { return static_cast<long>(fallocate(fd, 0, 0, 4096)); });
       },
       "EPERM", "EBADF"},
      {"copy_file_range",
       [](const Fixture& f) {
         return WithReadFd(f, [](int fd) {
           return static_cast<long>(copy_file_range(fd, nullptr, fd, nullptr, 1, 0));
         });
       },
       "EPERM", "EBADF"},
      {"chmod",
       [](const Fixture& f) { return static_cast<long>(chmod(f.existing().c_str(), 0600)); }},
      {"fchmod (read-only fd)",
       [](const Fixture& f) {
         return WithReadFd(f, [](int fd) { return static_cast<long>(fchmod(fd, 0600)); });
       }},
      {"fchmodat",
       [](const Fixture& f) {
         return static_cast<long>(fchmodat(AT_FDCWD, f.existing().c_str(), 0600, 0));
       }},
      {"syscall fchmodat2",
       [](const Fixture& f) {
         return syscall(kSysFchmodat2, AT_FDCWD, f.existing().c_str(), 0600, 0);
       }},
      {"chown",
       [](const Fixture& f) {
         return static_cast<long>(chown(f.existing().c_str(), getuid(), getgid()));
       }},
      {"lchown",
       [](const Fixture& f) {
         return static_cast<long>(lchown(f.existing().c_str(), getuid(), getgid()));
       }},
      {"fchown (read-only fd)",
       [](const Fixture& f) {
         return WithReadFd(
             f, [](int fd) { return static_cast<long>(fchown(fd, getuid(), getgid())); });
       }},
      {"fchownat",
       [](const Fixture& f) {
         return static_cast<long>(fchownat(AT_FDCWD, f.existing().c_str(), getuid(), getgid(), 0));
       }},
      {"utimensat",
       [](const Fixture& f) {
         return static_cast<long>(utimensat(AT_FDCWD, f.existing().c_str(), nullptr, 0));
       }},
      {"utimes",
       [](const Fixture& f) { return static_cast<long>(utimes(f.existing().c_str(), nullptr)); }},
      {"futimens (read-only fd)",
       [](const Fixture& f) {
         return WithReadFd(f, [](int fd) { return static_cast<long>(futimens(fd, nullptr)); });
       }},
      {"setxattr",
       [](const Fixture& f) {
         return static_cast<long>(setxattr(f.existing().c_str(), "user.x", "v", 1, 0));
       },
       "EPERM", ""},
      {"removexattr",
       [](const Fixture& f) {
         return static_cast<long>(removexattr(f.existing().c_str(), "user.x"));
       },
       "EPERM", ""},
      {"memfd_create", [](const Fixture&) { return CloseIfOpen(memfd_create("nowrite", 0)); }},
      {"io_uring_setup",
       [](const Fixture&) {
         char params[120] = {};
         return CloseIfOpen(syscall(SYS_io_uring_setup, 4, params));
       },
       "EPERM", ""},
      {"name_to_handle_at",
       [](const Fixture& f) {
         alignas(file_handle) char buf[sizeof(file_handle) + MAX_HANDLE_SZ] = {};
         auto* handle = reinterpret_cast<file_handle*>(buf);
         handle->handle_bytes = MAX_HANDLE_SZ;
         int mount_id = 0;
         return static_cast<long>(
             name_to_handle_at(AT_FDCWD, f.existing().c_str(), handle, &mount_id, 0));
       },
       "EPERM", ""},
      // The privileged ones point at paths that do not exist, so that without
      // the filter they would fail harmlessly (they never run unfiltered here).
      {"mount",
       [](const Fixture& f) {
         return static_cast<long>(mount("none", f.fresh().c_str(), "tmpfs", 0, nullptr));
       },
       "EPERM", ""},
      {"umount2", [](const Fixture& f) { return static_cast<long>(umount2(f.fresh().c_str(), 0)); },
       "EPERM", ""},
      {"pivot_root",
       [](const Fixture& f) {
         return syscall(SYS_pivot_root, f.fresh().c_str(), f.fresh().c_str());
       },
       "EPERM", ""},
      {"acct", [](const Fixture& f) { return static_cast<long>(acct(f.fresh().c_str())); }, "EPERM",
       ""},
  };
}

// RunOps runs every op on its own fixture under `parent`, in a forked child,
// with or without the sandbox; returns the child's report (op -> outcome).
ChildResult RunOps(const std::string& parent, bool sandboxed) {
  std::vector<WriteOp> ops = WriteOps();
  EXPECT_EQ(mkdir(parent.c_str(), 0755), 0);
  std::vector<Fixture> fixtures;
  for (size_t i = 0; i < ops.size(); ++i) {
    fixtures.push_back(MakeFixture(parent, absl::StrCat("op", i)));
  }
  return RunInForkedChild([&](ChildReporter& out) {
    if (sandboxed) {
      absl::Status st = InstallNoWriteSandbox();
      out.ReportStatus("install", st);
      if (!st.ok()) return;
    }
    for (size_t i = 0; i < ops.size(); ++i) {
      if (!sandboxed && *ops[i].control == '\0') continue;
      errno = 0;
      long rc = ops[i].run(fixtures[i]);
      out.Report(ops[i].name, Outcome(rc));
    }
  });
}

TEST(NoWriteSandboxTest, DeniedSyscallsNameEveryFamily) {
  std::vector<std::string> denied = DeniedSyscalls();
  for (const char* name : {"open (write flags)",
                           "openat (write flags)",
                           "open_by_handle_at (write flags)",
                           "openat2 (ENOSYS)",
                           "creat",
                           "rename",
                           "renameat",
                           "renameat2",
                           "unlink",
                           "unlinkat",
                           "rmdir",
                           "mkdir",
                           "mkdirat",
                           "mknod",
                           "mknodat",
                           "link",
                           "linkat",
                           "symlink",
                           "symlinkat",
                           "truncate",
                           "ftruncate",
                           "fallocate",
                           "chmod",
                           "fchmod",
                           "fchmodat",
                           "fchmodat2",
                           "chown",
                           "fchown",
                           "lchown",
                           "fchownat",
                           "utime",
                           "utimes",
                           "utimensat",
                           "futimesat",
                           "setxattr",
                           "lsetxattr",
                           "fsetxattr",
                           "removexattr",
                           "lremovexattr",
                           "fremovexattr",
                           "mount",
                           "umount2",
                           "pivot_root",
                           "memfd_create",
                           "io_uring_setup",
                           "name_to_handle_at",
                           "copy_file_range"}) {
    EXPECT_THAT(denied, Contains(name));
  }
}

// Every write-ish call fails with EPERM (openat2: ENOSYS) under the filter,
// while the same calls in an unfiltered child succeed (so the error really
// comes from the filter), and the sandboxed child left no trace on disk.
TEST(NoWriteSandboxTest, RefusesEveryFileWrite) {
  const std::string dir = FreshTempDir();
  ChildResult sandboxed = RunOps(dir + "/sandboxed", true);
  ASSERT_THAT(sandboxed.status, IsOk());
  ASSERT_EQ(sandboxed.Get("install"), "OK");
  ChildResult control = RunOps(dir + "/control", false);
  ASSERT_THAT(control.status, IsOk());

  std::vector<WriteOp> ops = WriteOps();
  for (size_t i = 0; i < ops.size(); ++i) {
    const WriteOp& op = ops[i];
    EXPECT_EQ(sandboxed.Get(op.name), op.sandboxed) << op.name;
    if (*op.control != '\0') {
      EXPECT_EQ(control.Get(op.name), op.control) << op.name << " (unfiltered)";
    }
    ExpectUntouched(Fixture{absl::StrCat(dir, "/sandboxed/op", i)}, op.name);
  }
}

// Reads, entropy, sockets, pipes and stderr keep working under the filter.
TEST(NoWriteSandboxTest, KeepsReadsSocketsStderrAndEntropy) {
  const std::string dir = FreshTempDir();
  const Fixture f = MakeFixture(dir, "f");
  ChildResult r = RunInForkedChild([&](ChildReporter& out) {
    out.ReportStatus("install", InstallNoWriteSandbox());
    out.Report("read", ReadFile(f.existing()));
    out.Report("open O_RDONLY|O_CLOEXEC|O_NOFOLLOW",
               Outcome(CloseIfOpen(open(f.existing().c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW))));
    out.Report("open O_PATH", Outcome(CloseIfOpen(open(f.dir.c_str(), O_PATH | O_DIRECTORY))));
    out.Report("listdir", absl::StrCat(ListDir(f.dir).size()));
    struct stat st {};
    out.Report("stat", Outcome(stat(f.existing().c_str(), &st)));

    char rnd[32];
    out.Report("getrandom", getrandom(rnd, sizeof(rnd), 0) == sizeof(rnd) ? "ok" : "short");
    int urandom = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    out.Report("urandom", Outcome(urandom < 0 ? -1 : read(urandom, rnd, 16)));
    if (urandom >= 0) close(urandom);
    out.Report("/dev/null O_RDONLY", Outcome(CloseIfOpen(open("/dev/null", O_RDONLY))));

    static constexpr char kLine[] = "sandbox_test: stderr still works\n";
    out.Report("stderr", Outcome(write(STDERR_FILENO, kLine, sizeof(kLine) - 1)));

    int p[2];
    bool piped = pipe(p) == 0 && write(p[1], "abc", 3) == 3 && read(p[0], rnd, 3) == 3;
    out.Report("pipe", piped ? "ok" : Outcome(-1));

    int sp[2];
    bool paired = socketpair(AF_UNIX, SOCK_STREAM, 0, sp) == 0 && send(sp[0], "xy", 2, 0) == 2 &&
                  recv(sp[1], rnd, 2, 0) == 2;
    out.Report("socketpair", paired ? "ok" : Outcome(-1));

    // A TCP round trip on loopback: socket, bind, listen, connect, accept.
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    bool tcp = lfd >= 0 && bind(lfd, reinterpret_cast<sockaddr*>(&addr), len) == 0 &&
               listen(lfd, 1) == 0 &&
               getsockname(lfd, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
    int cfd = tcp ? socket(AF_INET, SOCK_STREAM, 0) : -1;
    tcp = tcp && connect(cfd, reinterpret_cast<sockaddr*>(&addr), len) == 0;
    int afd = tcp ? accept(lfd, nullptr, nullptr) : -1;
    char got[5] = {};
    tcp = tcp && afd >= 0 && write(cfd, "hello", 5) == 5 && recv(afd, got, 5, MSG_WAITALL) == 5;
    out.Report("tcp", tcp ? std::string(got, 5) : Outcome(-1));

    void* mem = mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    out.Report("mmap", mem == MAP_FAILED ? Outcome(-1) : "ok");
  });
  ASSERT_THAT(r.status, IsOk());
  EXPECT_EQ(r.Get("install"), "OK");
  EXPECT_EQ(r.Get("read"), kOriginal);
  for (const char* key :
       {"open O_RDONLY|O_CLOEXEC|O_NOFOLLOW", "open O_PATH", "stat", "getrandom", "urandom",
        "/dev/null O_RDONLY", "stderr", "pipe", "socketpair", "mmap"}) {
    EXPECT_EQ(r.Get(key), "ok") << key;
  }
  EXPECT_EQ(r.Get("listdir"), "2");
  EXPECT_EQ(r.Get("tcp"), "hello");
}

// The filter reports itself: no_new_privs, seccomp mode 2, and the flag.
TEST(NoWriteSandboxTest, SetsNoNewPrivsAndFilterMode) {
  EXPECT_FALSE(NoWriteSandboxInstalled());
  ChildResult r = RunInForkedChild([](ChildReporter& out) {
    out.Report("before", NoWriteSandboxInstalled() ? "installed" : "not installed");
    out.ReportStatus("install", InstallNoWriteSandbox());
    out.Report("after", NoWriteSandboxInstalled() ? "installed" : "not installed");
    out.Report("no_new_privs", absl::StrCat(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0)));
    std::string status = ReadFile("/proc/self/status");
    out.Report("seccomp_mode", status.find("Seccomp:\t2") != std::string::npos ? "2" : status);
    // A second call stacks an identical filter.
    out.ReportStatus("install again", InstallNoWriteSandbox());
  });
  ASSERT_THAT(r.status, IsOk());
  EXPECT_EQ(r.Get("before"), "not installed");
  EXPECT_EQ(r.Get("install"), "OK");
  EXPECT_EQ(r.Get("after"), "installed");
  EXPECT_EQ(r.Get("no_new_privs"), "1");
  EXPECT_EQ(r.Get("seccomp_mode"), "2");
  EXPECT_EQ(r.Get("install again"), "OK");
  EXPECT_FALSE(NoWriteSandboxInstalled());
}

// TSYNC: a thread that was already running when the filter went on is
// covered, and so is one started afterwards.
TEST(NoWriteSandboxTest, CoversThreadsAlreadyRunning) {
  const std::string dir = FreshTempDir();
  ChildResult r = RunInForkedChild([&](ChildReporter& out) {
    int go[2];
    if (pipe(go) != 0) return;
    std::string early;
    std::thread before([&] {
      char c;
      if (read(go[0], &c, 1) != 1) return;
      early = Outcome(CloseIfOpen(open((dir + "/early").c_str(), O_WRONLY | O_CREAT, 0644)));
    });
    out.ReportStatus("install", InstallNoWriteSandbox());
    if (write(go[1], "x", 1) != 1) out.Report("signal", Outcome(-1));
    before.join();
    out.Report("thread started before", early);
    std::string late;
    std::thread after([&] {
      late = Outcome(CloseIfOpen(open((dir + "/late").c_str(), O_WRONLY | O_CREAT, 0644)));
    });
    after.join();
    out.Report("thread started after", late);
  });
  ASSERT_THAT(r.status, IsOk());
  EXPECT_EQ(r.Get("install"), "OK");
  EXPECT_EQ(r.Get("thread started before"), "EPERM");
  EXPECT_EQ(r.Get("thread started after"), "EPERM");
  EXPECT_THAT(ListDir(dir), IsEmpty());
}

// Children inherit the filter, across fork and across execve (a shell's
// redirection cannot create a file either).
TEST(NoWriteSandboxTest, ForkedAndExecutedChildrenInheritIt) {
  const std::string dir = FreshTempDir();
  ChildResult r = RunInForkedChild([&](ChildReporter& out) {
    out.ReportStatus("install", InstallNoWriteSandbox());
    pid_t pid = fork();
    if (pid == 0) {
      int fd = open((dir + "/forked").c_str(), O_WRONLY | O_CREAT, 0644);
      _exit(fd < 0 && errno == EPERM ? 0 : 1);
    }
    int ws = 0;
    waitpid(pid, &ws, 0);
    out.Report("fork", WIFEXITED(ws) && WEXITSTATUS(ws) == 0 ? "EPERM" : "wrote");
    const std::string cmd = absl::StrCat("echo hi > '", dir, "/execed' 2>/dev/null");
    pid = fork();
    if (pid == 0) {
      execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    waitpid(pid, &ws, 0);
    out.Report("exec", WIFEXITED(ws) ? absl::StrCat("exit ", WEXITSTATUS(ws)) : "signal");
  });
  ASSERT_THAT(r.status, IsOk());
  EXPECT_EQ(r.Get("install"), "OK");
  EXPECT_EQ(r.Get("fork"), "EPERM");
  EXPECT_NE(r.Get("exec"), "exit 0");
  EXPECT_NE(r.Get("exec"), "exit 127");
  EXPECT_THAT(ListDir(dir), IsEmpty());
}

// A filtered process can still end normally: exit() runs atexit handlers
// and, under --config=asan, LeakSanitizer's exit-time check (which reads
// /proc and may print to stderr, both allowed); under tsan, its exit report.
TEST(NoWriteSandboxTest, ProcessExitsNormallyUnderTheFilter) {
  ChildResult r = RunInForkedChild([](ChildReporter& out) {
    absl::Status st = InstallNoWriteSandbox();
    out.ReportStatus("install", st);
    std::exit(st.ok() ? 0 : 3);
  });
  EXPECT_THAT(r.status, IsOk());
  EXPECT_EQ(r.Get("install"), "OK");
}

// Opens `path` for writing (before any sandbox) and returns the fd.
int OpenLog(const std::string& path) {
  return open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
}

// kReject (the default): a writable file fd refuses the install and names
// the fd and path; nothing is installed.
TEST(NoWriteSandboxTest, RejectsInheritedWritableFilesByDefault) {
  const std::string dir = FreshTempDir();
  ChildResult r = RunInForkedChild([&](ChildReporter& out) {
    int fd = OpenLog(dir + "/host.log");
    out.Report("fd", absl::StrCat(fd));
    absl::Status st = InstallNoWriteSandbox();
    out.Report("code", absl::StatusCodeToString(st.code()));
    out.Report("message", st.message());
    out.Report("installed", NoWriteSandboxInstalled() ? "yes" : "no");
    out.Report("seccomp", ReadFile("/proc/self/status").find("Seccomp:\t0") != std::string::npos
                              ? "off"
                              : "on");
  });
  ASSERT_THAT(r.status, IsOk());
  EXPECT_EQ(r.Get("code"), "FAILED_PRECONDITION");
  EXPECT_THAT(r.Get("message"),
              HasSubstr(absl::StrCat("fd ", r.Get("fd"), " -> ", dir, "/host.log")));
  EXPECT_THAT(r.Get("message"), HasSubstr("kClose"));
  EXPECT_EQ(r.Get("installed"), "no");
  EXPECT_EQ(r.Get("seccomp"), "off");
}

TEST(NoWriteSandboxTest, ClosesInheritedWritableFilesOnRequest) {
  const std::string dir = FreshTempDir();
  ChildResult r = RunInForkedChild([&](ChildReporter& out) {
    int fd = OpenLog(dir + "/host.log");
    int ro = open(dir.c_str(), O_RDONLY | O_DIRECTORY);
    out.ReportStatus("install", InstallNoWriteSandbox(
                                    {.inherited_writable_files = InheritedWritableFiles::kClose}));
    out.Report("writable fd", Outcome(fcntl(fd, F_GETFD)));
    out.Report("read-only fd", Outcome(fcntl(ro, F_GETFD)));
  });
  ASSERT_THAT(r.status, IsOk());
  EXPECT_EQ(r.Get("install"), "OK");
  EXPECT_EQ(r.Get("writable fd"), "EBADF");
  EXPECT_EQ(r.Get("read-only fd"), "ok");
}

// kAllow (or an exempt fd) shows the documented gap: write(2) on an fd that
// was writable before the filter still works; creating files does not.
TEST(NoWriteSandboxTest, AllowedInheritedFdsStayWritable) {
  const std::string dir = FreshTempDir();
  ChildResult r = RunInForkedChild([&](ChildReporter& out) {
    int fd = OpenLog(dir + "/host.log");
    int fd2 = OpenLog(dir + "/exempt.log");
    out.ReportStatus("install", InstallNoWriteSandbox({.allowed_writable_fds = {2, fd2}}));
    out.ReportStatus("install kAllow", InstallNoWriteSandbox({.inherited_writable_files =
                                                                  InheritedWritableFiles::kAllow}));
    out.Report("write", Outcome(write(fd, "log\n", 4)));
    out.Report("ftruncate", Outcome(ftruncate(fd, 0)));
    out.Report("create", Outcome(CloseIfOpen(OpenLog(dir + "/new.log"))));
  });
  ASSERT_THAT(r.status, IsOk());
  EXPECT_THAT(r.Get("install"), HasSubstr("host.log"));
  EXPECT_THAT(r.Get("install"), ::testing::Not(HasSubstr("exempt.log")));
  EXPECT_EQ(r.Get("install kAllow"), "OK");
  EXPECT_EQ(r.Get("write"), "ok");
  EXPECT_EQ(r.Get("ftruncate"), "EPERM");
  EXPECT_EQ(r.Get("create"), "EPERM");
  EXPECT_EQ(ReadFile(dir + "/host.log"), "log\n");
  EXPECT_THAT(ListDir(dir), ElementsAre("exempt.log", "host.log"));
}

TEST(ForkedChildTest, ReportsTimeoutsAndCrashes) {
  ChildResult slow = RunInForkedChild(
      [](ChildReporter& out) {
        out.Report("started", "yes\nmultiline\\");
        pause();
      },
      absl::Milliseconds(200));
  EXPECT_THAT(slow.status, StatusIs(absl::StatusCode::kDeadlineExceeded));
  EXPECT_EQ(slow.Get("started"), "yes\nmultiline\\");
  ChildResult crash = RunInForkedChild([](ChildReporter&) { raise(SIGKILL); });
  EXPECT_THAT(crash.status, StatusIs(absl::StatusCode::kInternal, HasSubstr("signal 9")));
}

}  // namespace
}  // namespace sslshim::runtime
