#include "runtime/header_list.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sslshim::runtime {
namespace {

using ::testing::ElementsAre;
using ::testing::Pair;

TEST(HeaderListTest, CaseInsensitiveLookupKeepsOrderAndRepeats) {
  HeaderList h = {{"Content-Type", "text/plain"}, {"X-A", "1"}};
  h.Add("set-cookie", "a=1");
  h.Add("Set-Cookie", "b=2");
  EXPECT_EQ(h.Get("CONTENT-TYPE"), "text/plain");
  EXPECT_EQ(h.Get("Set-Cookie"), "a=1, b=2");
  EXPECT_THAT(h.GetAll("SET-COOKIE"), ElementsAre("a=1", "b=2"));
  EXPECT_EQ(h.Get("missing"), absl::nullopt);
  EXPECT_TRUE(h.Contains("x-a"));
  EXPECT_FALSE(h.Contains("x-b"));
  EXPECT_EQ(h.size(), 4u);
  EXPECT_EQ(h.fields()[2].first, "set-cookie");  // Spelling kept.
}

TEST(HeaderListTest, SetReplacesAllAtFirstPosition) {
  HeaderList h = {{"A", "1"}, {"B", "2"}, {"a", "3"}};
  h.Set("A", "9");
  EXPECT_THAT(h.fields(), ElementsAre(Pair("A", "9"), Pair("B", "2")));
  h.Set("C", "4");
  EXPECT_THAT(h.fields(), ElementsAre(Pair("A", "9"), Pair("B", "2"), Pair("C", "4")));
}

TEST(HeaderListTest, Remove) {
  HeaderList h = {{"A", "1"}, {"B", "2"}, {"a", "3"}};
  EXPECT_EQ(h.Remove("A"), 2u);
  EXPECT_EQ(h.Remove("A"), 0u);
  EXPECT_THAT(h.fields(), ElementsAre(Pair("B", "2")));
}

}  // namespace
}  // namespace sslshim::runtime
