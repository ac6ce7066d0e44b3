#include "runtime/demo.h"

#include <dirent.h>

#include <sstream>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sslshim::runtime {
namespace {

using ::testing::ContainsRegex;
using ::testing::HasSubstr;

// Names in `dir` that start with "sslshim-demo." (the demo's temp dirs).
int DemoDirsIn(const std::string& dir) {
  int n = 0;
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d)) {
      if (std::string(e->d_name).rfind("sslshim-demo.", 0) == 0) ++n;
    }
    closedir(d);
  }
  return n;
}

// Shows: `text` contains `part` (on failure the part, not the whole text).
::testing::AssertionResult Shows(const std::string& text, const std::string& part) {
  if (absl::StrContains(text, part)) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "output lacks: " << part;
}

::testing::AssertionResult ShowsRegex(const std::string& text, const std::string& re) {
  if (::testing::Value(text, ContainsRegex(re))) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "output lacks a match for: " << re;
}

TEST(DemoTest, EveryStepDoesWhatItShould) {
  const std::string root = ::testing::TempDir();
  ASSERT_EQ(DemoDirsIn(root), 0);
  std::ostringstream out;
  const absl::Time start = absl::Now();
  EXPECT_EQ(RunDemo(out, {.temp_root = root}), 0) << out.str();
  const absl::Duration took = absl::Now() - start;
  const std::string text = out.str();
  EXPECT_LT(took, absl::Seconds(5));
  EXPECT_FALSE(absl::StrContains(text, "] FAIL "));
  EXPECT_FALSE(absl::StrContains(text, "FAILED)"));
  EXPECT_TRUE(ShowsRegex(text, "\nsummary: [0-9]+/[0-9]+ steps did what they should\n$"));
  // The store and the sealed key.
  EXPECT_TRUE(Shows(text, absl::StrCat("ok   host: created the LMDB store lmdb:",
                                       absl::StripSuffix(root, "/"), "/sslshim-demo.")));
  EXPECT_TRUE(Shows(text, "ok   host: the stored key_str is sealed, not PEM"));
  EXPECT_TRUE(Shows(text, "key_str = \"SSK1\""));
  EXPECT_TRUE(Shows(text, "Employee/asalieri/Address/1"));
  EXPECT_TRUE(Shows(text, "Employee/asalieri/Address/2"));
  // The sandbox: the app's writes fail, and it left nothing behind.
  EXPECT_TRUE(Shows(text, "another tenant's record is out of reach: PERMISSION_DENIED"));
  EXPECT_TRUE(Shows(text, "ok   app: installed the no-write sandbox"));
  EXPECT_TRUE(Shows(text, "O_WRONLY|O_CREAT) -> EPERM; mkdir -> EPERM"));
  EXPECT_TRUE(
      ShowsRegex(text, "ok   host: the app wrote no file\n .* holds data.mdb, lock.mdb"));
  // Both verified peers.
  EXPECT_TRUE(Shows(text,
                    "server side, the handler's client identity: verified client "
                    "O=Employee,CN=asalieri"));
  EXPECT_TRUE(Shows(text,
                    "client side, the response's peer_cert: {'subject': "
                    "(((\'commonName\', \'localhost\'),),)"));
  EXPECT_TRUE(Shows(text, "ok   app: match_hostname(peer_cert, 'localhost') passes"));
  EXPECT_TRUE(Shows(text, "CertificateError: hostname 'a.hostname.com' doesn't match"));
  // Rotation through the watch, no restart.
  EXPECT_TRUE(Shows(text, "ok   host: rotated the server key in the store"));
  EXPECT_TRUE(ShowsRegex(text,
                         "ok   app: the next connection uses the rotated key, no "
                         "restart\n +server certificate SHA-256 ([0-9a-f]{16})\\.\\.\\. "
                         "-> ([0-9a-f]{16})\\.\\.\\., generation 1 -> 2"));
  // One-way, and the refusals with their reasons.
  EXPECT_TRUE(Shows(text, "server says: anonymous client (no certificate)"));
  EXPECT_TRUE(Shows(text, "PEER_DID_NOT_RETURN_A_CERTIFICATE"));
  EXPECT_TRUE(Shows(text, "SSLCertVerificationError"));
  // The temporary store is gone.
  EXPECT_EQ(DemoDirsIn(root), 0);
}

TEST(DemoTest, AnUnusableTempRootIsOneFailedStepNotACrash) {
  std::ostringstream out;
  EXPECT_EQ(RunDemo(out, {.temp_root = "/nonexistent/dir"}), 1) << out.str();
  EXPECT_THAT(out.str(), HasSubstr("FAIL host: create a temporary directory"));
  EXPECT_THAT(out.str(), HasSubstr("summary: 0/1 steps did what they should (1 FAILED)"));
}

}  // namespace
}  // namespace sslshim::runtime
