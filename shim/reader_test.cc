#include "shim/reader.h"

#include <stdlib.h>

#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "shim/errors.h"
#include "testing/fd_count.h"
#include "testing/status_matchers.h"

namespace sslshim::shim {
namespace {

using ::sslshim::testing::StatusIs;
using ::testing::HasSubstr;

std::string TempPath(const std::string& name) {
  const char* dir = getenv("TEST_TMPDIR");
  return absl::StrCat(dir != nullptr ? dir : "/tmp", "/", name);
}

TEST(ReaderTest, EveryReadyMadeReaderReturnsTheWholeContent) {
  const std::string content = "-----BEGIN X-----\nabc\n-----END X-----\n";
  const std::string path = TempPath("reader.pem");
  std::ofstream(path) << content;
  setenv("SSLSHIM_READER_TEST", content.c_str(), 1);
  for (const Source& source :
       {Source(StringIO(content)), Source(path), Source(FileReader(path)),
        Source(EnvReader("SSLSHIM_READER_TEST")),
        Source(CallableReader("fn", [&] { return absl::StatusOr<std::string>(content); }))}) {
    SCOPED_TRACE(source.Describe());
    ASSERT_OK_AND_ASSIGN(SecureBytes bytes, ReadSource(source, "certfile"));
    EXPECT_EQ(bytes.view(), content);
  }
}

TEST(ReaderTest, ReadersAreReadAgainEachTime) {
  int n = 0;
  auto reader = CallableReader("counter", [&n] {
    return absl::StatusOr<std::string>(absl::StrCat("v", ++n));
  });
  EXPECT_EQ(ReadSource(reader, "x")->view(), "v1");
  EXPECT_EQ(ReadSource(reader, "x")->view(), "v2");
}

TEST(ReaderTest, FailuresNameTheArgumentAndReader) {
  const int before = sslshim::testing::OpenFdCount();
  EXPECT_THAT(ReadSource(Source(), "keyfile"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("keyfile: no path or reader given")));
  EXPECT_THAT(ReadSource(StringIO(""), "certfile"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("certfile: StringIO returned no data")));
  EXPECT_THAT(ReadSource(Source("/no/such/file.pem"), "ca_certs"),
              StatusIs(absl::StatusCode::kNotFound,
                       HasSubstr("ca_certs: reading file /no/such/file.pem failed")));
  EXPECT_THAT(ReadSource(EnvReader("SSLSHIM_SURELY_UNSET"), "keyfile"),
              StatusIs(absl::StatusCode::kNotFound,
                       HasSubstr("environment variable SSLSHIM_SURELY_UNSET is not set")));
  EXPECT_THAT(ReadSource(CallableReader("datastore Employee/1", [] {
                           return absl::StatusOr<std::string>(
                               absl::UnavailableError("backend down"));
                         }),
                         "certfile"),
              StatusIs(absl::StatusCode::kUnavailable,
                       HasSubstr("certfile: reading datastore Employee/1 failed: "
                                 "backend down")));
  EXPECT_THAT(ReadSource(StringIO(std::string(101, 'x')), "cadata", 100),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("returned 101 bytes, more than the limit of 100")));
  EXPECT_THAT(ReadSource(StringIO(std::string(kDefaultReadLimit + 1, 'x')), "c"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_OK(ReadSource(StringIO(std::string(kDefaultReadLimit, 'x')), "c"));
  // A directory is not a credential.
  EXPECT_FALSE(ReadSource(Source("/"), "certfile").ok());
  EXPECT_EQ(sslshim::testing::OpenFdCount(), before);
}

// Special files as credential paths: bounded in time and memory, the error
// names the argument and the path (regression: /dev/zero was read to 1 GiB).
TEST(ReaderTest, SpecialFilesAreRefusedQuickly) {
  const int before = sslshim::testing::OpenFdCount();
  const absl::Time start = absl::Now();
  EXPECT_THAT(ReadSource(Source("/dev/zero"), "certfile"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("certfile: reading file /dev/zero failed: "
                                 "/dev/zero is a character device")));
  EXPECT_THAT(ReadSource(Source("/tmp"), "ca_certs"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("/tmp is a directory")));
  EXPECT_LT(absl::Now() - start, absl::Seconds(1));
  // A big regular file stops at the limit, not at EOF.
  const std::string big = TempPath("big.pem");
  std::ofstream(big) << std::string(4096, 'x');
  EXPECT_THAT(ReadSource(Source(big), "cafile", 1000),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("larger than the limit of 1000 bytes")));
  EXPECT_EQ(sslshim::testing::OpenFdCount(), before);
}

TEST(ReaderTest, SecureBytesWipesOnMoveAndDestruction) {
  SecureBytes a(std::string("secret"));
  SecureBytes b = std::move(a);
  EXPECT_TRUE(a.empty());
  EXPECT_EQ(b.view(), "secret");
  b.Wipe();
  EXPECT_TRUE(b.empty());
  std::string s = "0123456789abcdef0123456789";
  WipeString(s);
  EXPECT_TRUE(s.empty());
}

}  // namespace
}  // namespace sslshim::shim
