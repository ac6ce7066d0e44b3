// Hostile paths handed to ReadBoundedFile: each must be a clear error that
// names the path, within bounded time and memory, with no descriptor left.

#include "pki/bounded_file.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/fd_count.h"
#include "testing/status_matchers.h"

namespace sslshim::pki {
namespace {

using ::testing::HasSubstr;

class BoundedFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::string(getenv("TEST_TMPDIR") ? getenv("TEST_TMPDIR") : "/tmp") +
           "/bounded_file_" + std::to_string(getpid());
    mkdir(dir_.c_str(), 0700);
    fds_before_ = sslshim::testing::OpenFdCount();
  }
  void TearDown() override {
    EXPECT_EQ(sslshim::testing::OpenFdCount(), fds_before_) << "leaked a descriptor";
  }
  std::string Write(const std::string& name, const std::string& content) {
    std::string path = dir_ + "/" + name;
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }
  std::string dir_;
  int fds_before_ = 0;
};

TEST_F(BoundedFileTest, ReadsARegularFile) {
  std::string path = Write("a.pem", "hello\n");
  absl::StatusOr<std::string> got = ReadBoundedFile(path, 100);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, "hello\n");
}

TEST_F(BoundedFileTest, ExactlyTheLimitIsAccepted) {
  std::string path = Write("b.pem", std::string(1000, 'x'));
  EXPECT_TRUE(ReadBoundedFile(path, 1000).ok());
  absl::StatusOr<std::string> over = ReadBoundedFile(path, 999);
  ASSERT_EQ(over.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(over.status().message()), HasSubstr(path));
  EXPECT_THAT(std::string(over.status().message()), HasSubstr("limit of 999"));
  EXPECT_THAT(std::string(over.status().message()), ::testing::Not(HasSubstr("xxx")));
}

TEST_F(BoundedFileTest, DevZeroStopsAtTheLimitQuickly) {
  auto start = std::chrono::steady_clock::now();
  absl::StatusOr<std::string> got = ReadBoundedFile("/dev/zero", 1 << 20);
  auto took = std::chrono::steady_clock::now() - start;
  ASSERT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(got.status().message()), HasSubstr("/dev/zero is a character device"));
  EXPECT_LT(took, std::chrono::seconds(1));
}

TEST_F(BoundedFileTest, DirectoryIsRefused) {
  absl::StatusOr<std::string> got = ReadBoundedFile(dir_, 1 << 20);
  ASSERT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(got.status().message()), HasSubstr(dir_ + " is a directory"));
}

TEST_F(BoundedFileTest, FifoWithoutWriterDoesNotBlock) {
  std::string path = dir_ + "/fifo";
  ASSERT_EQ(mkfifo(path.c_str(), 0600), 0);
  auto start = std::chrono::steady_clock::now();
  absl::StatusOr<std::string> got = ReadBoundedFile(path, 1 << 20);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
  ASSERT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(got.status().message()), HasSubstr("is a FIFO"));
  unlink(path.c_str());
}

TEST_F(BoundedFileTest, UnixSocketIsRefused) {
  // sun_path is short: a fresh name under /tmp, not under TEST_TMPDIR.
  std::string path = "/tmp/bf_sock_" + std::to_string(getpid());
  unlink(path.c_str());
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  absl::StatusOr<std::string> got = ReadBoundedFile(path, 1 << 20);
  EXPECT_FALSE(got.ok());
  EXPECT_THAT(std::string(got.status().message()), HasSubstr(path));
  close(fd);
  unlink(path.c_str());
}

TEST_F(BoundedFileTest, ProcFilesAreReadAlthoughTheySayZeroBytes) {
  absl::StatusOr<std::string> got = ReadBoundedFile("/proc/self/status", 1 << 20);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_THAT(*got, HasSubstr("Pid:"));
  EXPECT_EQ(ReadBoundedFile("/proc/self/status", 10).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(BoundedFileTest, MissingUnreadableAndTooLongNames) {
  EXPECT_EQ(ReadBoundedFile(dir_ + "/nope", 10).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(ReadBoundedFile(std::string(5000, 'a'), 10).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ReadBoundedFile("", 10).status().code(), absl::StatusCode::kInvalidArgument);
  if (geteuid() != 0) {  // root reads anything
    std::string path = Write("secret", "x");
    chmod(path.c_str(), 0);
    EXPECT_EQ(ReadBoundedFile(path, 10).status().code(),
              absl::StatusCode::kPermissionDenied);
  }
}

TEST_F(BoundedFileTest, StreamIsBoundedToo) {
  std::istringstream small("abc");
  absl::StatusOr<std::string> got = ReadBoundedStream(small, "stdin", 3);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, "abc");
  std::istringstream big(std::string(100000, 'z'));
  EXPECT_EQ(ReadBoundedStream(big, "stdin", 1000).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace sslshim::pki
