// sandbox.h
// -----------------------------------------------------------------------------
// The no-write sandbox: a seccomp-BPF filter (built with libseccomp) that makes
// every file write, create, rename, unlink, truncate, mkdir, link, permission
// and ownership change, xattr change and mount fail with EPERM, while reads,
// sockets, pipes, stderr and entropy keep working (BoringSSL needs the last
// two, see its SANDBOXING.md). It is how the runtime proves that the whole TLS
// path works without writing a byte, and how a host keeps an app from writing.
//
//   // Host: open everything the app needs (CA bundle, store view) first.
//   absl::Status s = sslshim::runtime::InstallNoWriteSandbox();
//   if (!s.ok()) return s;  // FailedPrecondition: seccomp unavailable, ...
//   // From here on, open("x", O_WRONLY | O_CREAT) fails with EPERM in this
//   // process, in every one of its threads and in every child it forks.
//
// This is a write-DENIAL filter, not an allow-list: the filter's default
// action is ALLOW and only the system calls listed by DeniedSyscalls() are
// refused (some only for write-ish flags). Everything else (read, write(2) to
// an fd the process already holds, sockets, poll/epoll, mmap, getrandom,
// clone, ...) is untouched. Calls made through a foreign ABI (i386 int 0x80,
// x32) fail with ENOSYS.
//
// What it cannot see (seccomp only inspects register arguments, never the
// memory they point to, and never what an fd refers to):
//   * write(2)/pwrite/writev/sendfile/splice/mmap(MAP_SHARED) on a file
//     descriptor that was opened for writing BEFORE the filter went on look
//     exactly like a socket write and are allowed. The host must not hand the
//     app writable file descriptors; SandboxOptions::inherited_writable_files
//     (default kReject) checks /proc/self/fd at install time.
//   * bind(2) of an AF_UNIX socket to a filesystem path creates a socket
//     inode (the path is behind a pointer). Use abstract sockets, or add a
//     read-only mount namespace / Landlock on top if that matters.
//   * Consequences a host should expect: opening /dev/null (or a tty) for
//     writing fails too (hand the app fd 0-2 instead), and so do mkstemp,
//     tmpfile, shm_open and sem_open (they create files). Nothing in BoringSSL
//     or the facade needs any of them; CRYPTO_pre_sandbox_init is not needed
//     either, since read-only opens such as /dev/urandom stay allowed.
//   * openat2(2) passes its flags in a struct, so it is refused wholesale
//     with ENOSYS (the "kernel too old" answer every openat2 caller must
//     already handle by falling back to openat(2), which the filter can
//     inspect); EPERM would instead break read-only callers that lack a
//     fallback for it.

#ifndef SSLSHIM_RUNTIME_SANDBOX_H_
#define SSLSHIM_RUNTIME_SANDBOX_H_

#include <string>
#include <vector>

#include "absl/status/status.h"

namespace sslshim::runtime {

// InheritedWritableFiles says what InstallNoWriteSandbox does with file
// descriptors already open for writing on regular files or block devices (the
// writes the filter cannot tell from socket writes).
enum class InheritedWritableFiles {
  // kReject fails with FailedPrecondition listing the fds and their paths,
  // before anything is installed.
  kReject,
  // kClose closes them (before installing, and once more right after, to
  // catch fds another thread opened in between). Only for hosts that know no
  // other thread is using them.
  kClose,
  // kAllow leaves them open and writable (the caller takes responsibility).
  kAllow,
};

// SandboxOptions configures InstallNoWriteSandbox.
struct SandboxOptions {
  // What to do with inherited writable file descriptors (see above).
  InheritedWritableFiles inherited_writable_files = InheritedWritableFiles::kReject;
  // Descriptors exempt from that check: by default stdin, stdout and stderr,
  // which the host hands the app as its log channel even when they are files
  // (as under `bazel test`). BoringSSL may write to stderr.
  std::vector<int> allowed_writable_fds = {0, 1, 2};
};

// InstallNoWriteSandbox installs the no-write filter on the calling process.
// It first sets no_new_privs (required to load a filter unprivileged; it also
// makes execve unable to gain privileges), then loads the filter with
// SECCOMP_FILTER_FLAG_TSYNC so that every thread of the process, including
// threads already running, is covered; threads and processes created later
// inherit it.
//
// IRREVERSIBLE: there is no way to remove the filter from this process or its
// future threads and children. Tests must install it only in forked children.
// Calling it again stacks an identical filter (harmless).
//
// Returns OK once the filter is active. Errors (the process is unchanged):
//   FailedPrecondition when seccomp is unavailable (kernel without seccomp
//     filters or without TSYNC, already running under an incompatible filter,
//     libseccomp too old), naming the failing libseccomp call and errno;
//     also when options.inherited_writable_files is kReject and writable file
//     descriptors are open (message lists "fd N -> /path");
//   Internal when libseccomp rejects a rule (a bug here).
absl::Status InstallNoWriteSandbox(const SandboxOptions& options = {});

// NoWriteSandboxInstalled returns true once InstallNoWriteSandbox has
// succeeded in this process (a forked child inherits the answer, correctly,
// since it inherits the filter). Thread-safe.
bool NoWriteSandboxInstalled();

// DeniedSyscalls returns the names of the system calls the filter refuses,
// wholly or for some flags (e.g. "openat (write flags)"), in filter order,
// for documentation, logs and tests.
std::vector<std::string> DeniedSyscalls();

}  // namespace sslshim::runtime

#endif  // SSLSHIM_RUNTIME_SANDBOX_H_
