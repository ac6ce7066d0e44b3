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
  for (const char* url : {"",
                          "mem:",
                          "lmdb:",
                          "redis://",
                          "redis://h:x/0",
                          "redis://h:1/x",
                          "redis://h:1/0?ns=x",
                          "http://x",
                          "redis://h:0/0",
                          "redis://h:70000/0",
                          "redis://h:1/0?namespace=",
                          "redis://h:1/0?db=1",
                          "redis://h:1/0?replica_acks=-1",
                          "redis-sentinel://h:1",
                          "redis-sentinel://h:1/",
                          "redis-sentinel://h:1/m/x",
                          "redis-sentinel://h:1,,h:2/m",
                          "redis-sentinel://h:x/m",
                          "redis-sentinel:///m",
                          "redis-sentinel://h/m?db=x",
                          "redis-sentinel://h/m?failover_wait_ms=soon"}) {
    EXPECT_THAT(OpenStore(url),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("bad store URL")))
        << url;
  }
}

TEST(StoreUrlTest, ParsesRedisAndSentinelUrls) {
  ASSERT_OK_AND_ASSIGN(RedisStoreOptions r,
                       ParseRedisStoreUrl("redis://u%40x:p%3A%40w@h/3?namespace=a%2Fb&"
                                          "replica_acks=1&replica_ack_timeout_ms=250"));
  EXPECT_EQ(r.username, "u@x");
  EXPECT_EQ(r.password, "p:@w");
  EXPECT_EQ(r.host, "h");
  EXPECT_EQ(r.port, 6379);
  EXPECT_EQ(r.db, 3);
  EXPECT_EQ(r.key_namespace, "a/b");
  EXPECT_EQ(r.replica_acks, 1);
  EXPECT_EQ(r.replica_ack_timeout, absl::Milliseconds(250));
  EXPECT_TRUE(r.sentinels.empty());

  // A raw '@', '/' or '?' in the password: credentials end at the last '@'.
  ASSERT_OK_AND_ASSIGN(r, ParseRedisStoreUrl("redis://u:a@b/c?d@h:7/1"));
  EXPECT_EQ(r.password, "a@b/c?d");
  EXPECT_EQ(r.port, 7);

  ASSERT_OK_AND_ASSIGN(
      r, ParseRedisStoreUrl("redis-sentinel://t@s1:5000,s2,s3:5002/certs?db=2&"
                            "namespace=n&failover_wait_ms=3000",
                            {.redis_password = "frompw"}));
  EXPECT_EQ(r.master_name, "certs");
  ASSERT_EQ(r.sentinels.size(), 3u);
  EXPECT_EQ(r.sentinels[0], (RedisAddress{"s1", 5000}));
  EXPECT_EQ(r.sentinels[1], (RedisAddress{"s2", 26379}));
  EXPECT_EQ(r.sentinels[2], (RedisAddress{"s3", 5002}));
  EXPECT_EQ(r.db, 2);
  EXPECT_EQ(r.key_namespace, "n");
  EXPECT_EQ(r.failover_wait, absl::Seconds(3));
  EXPECT_EQ(r.username, "t");
  EXPECT_EQ(r.password, "frompw");  // A user without a password takes this one.
}

TEST(StoreUrlTest, RedactStoreUrl) {
  EXPECT_EQ(RedactStoreUrl("redis://u:pw@h:1/0"), "redis://u:<redacted>@h:1/0");
  EXPECT_EQ(RedactStoreUrl("redis://:pw@h"), "redis://:<redacted>@h");
  EXPECT_EQ(RedactStoreUrl("redis://u:p@w?x@h:abc"), "redis://u:<redacted>@h:abc");
  EXPECT_EQ(RedactStoreUrl("redis://u@h:1/0"), "redis://u@h:1/0");
  EXPECT_EQ(RedactStoreUrl("redis://h:1/0?namespace=a:b"), "redis://h:1/0?namespace=a:b");
  EXPECT_EQ(RedactStoreUrl("lmdb:/x@y:z"), "lmdb:/x@y:z");
  EXPECT_EQ(RedactStoreUrl("redis-sentinel://u:pw@a,b/m"),
            "redis-sentinel://u:<redacted>@a,b/m");
}

// Item 7 of issue 8: the password never appears in a parse or connect error.
TEST(StoreUrlTest, PasswordNeverInErrors) {
  constexpr char kSecret[] = "SeCrEt1";
  for (const char* url :
       {"redis://user:SeCrEt1@host:abc/0", "redis://user:SeCrEt1@host:1/x",
        "redis://user:SeCrEt1@host:1/0?x=1", "redis://user:SeCrEt1@/0",
        "redis://user:SeCrEt1%g@h", "redis://:SeCrEt1@h:99999",
        "redis://user:Se/Cr?Et1@h:abc", "redis-sentinel://user:SeCrEt1@h:1",
        "redis-sentinel://user:SeCrEt1@h:1,h:x/m", "redis://user:SeCrEt1@127.0.0.1:1/0",
        "redis-sentinel://user:SeCrEt1@127.0.0.1:1,127.0.0.1:2/m"}) {
    absl::StatusOr<std::unique_ptr<Store>> s = OpenStore(url);
    ASSERT_FALSE(s.ok()) << url;
    EXPECT_THAT(s.status().ToString(), Not(HasSubstr("SeCr"))) << url;
    EXPECT_THAT(s.status().ToString(), Not(HasSubstr("Et1"))) << url;
  }
  absl::StatusOr<std::unique_ptr<Store>> s =
      OpenStore("redis://u@127.0.0.1:1/0", {.redis_password = kSecret});
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(s.status().ToString(), Not(HasSubstr(kSecret)));
}

TEST(StoreUrlTest, SentinelsDownIsUnavailableNamingEachSentinel) {
  EXPECT_THAT(
      OpenStore("redis-sentinel://127.0.0.1:1,127.0.0.1:2/certs"),
      StatusIs(absl::StatusCode::kUnavailable,
               HasSubstr("no sentinel reported a master (sentinel 127.0.0.1:1: ")));
}

TEST(StoreUrlTest, RedisDownIsUnavailableNamingEndpoint) {
  // Port 1 on loopback: nothing listens there.
  EXPECT_THAT(
      OpenStore("redis://u:pw@127.0.0.1:1/3?namespace=n"),
      StatusIs(absl::StatusCode::kUnavailable, HasSubstr("redis://u@127.0.0.1:1/3")));
}

}  // namespace
}  // namespace sslshim::certstore
