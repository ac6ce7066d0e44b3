#include "certstore/store_url.h"

#include <stdlib.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/status_matchers.h"

namespace sslshim::certstore {
namespace {

using ::sslshim::testing::IsOk;
using ::sslshim::testing::StatusIs;
using ::testing::HasSubstr;

TEST(StoreUrlTest, MemoryAndLmdb) {
  ASSERT_OK_AND_ASSIGN(auto mem, OpenStore("memory:"));
  EXPECT_EQ(mem->Describe(), "memory:");
  std::string dir = std::string(getenv("TEST_TMPDIR")) + "/lmdb_url";
  ASSERT_OK_AND_ASSIGN(auto lmdb, OpenStore("lmdb:" + dir));
  EXPECT_EQ(lmdb->Describe(), "lmdb:" + dir);
}

TEST(StoreUrlTest, BadUrls) {
  for (const char* url : {"", "mem:", "lmdb:", "redis://", "redis://h:x/0",
                          "redis://h:1/x", "redis://h:1/0?ns=x", "http://x"}) {
    EXPECT_THAT(OpenStore(url),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("bad store URL")))
        << url;
  }
}

TEST(StoreUrlTest, RedisDownIsUnavailableNamingEndpoint) {
  // Port 1 on loopback: nothing listens there.
  EXPECT_THAT(
      OpenStore("redis://u:pw@127.0.0.1:1/3?namespace=n"),
      StatusIs(absl::StatusCode::kUnavailable, HasSubstr("redis://u@127.0.0.1:1/3")));
}

}  // namespace
}  // namespace sslshim::certstore
