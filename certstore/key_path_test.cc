#include "certstore/key_path.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/status_matchers.h"

namespace sslshim::certstore {
namespace {

using ::sslshim::testing::IsOk;
using ::sslshim::testing::StatusIs;
using ::testing::HasSubstr;

KeyPath P(std::initializer_list<KeyPath::Arg> args) {
  absl::StatusOr<KeyPath> p = KeyPath::Of(args);
  EXPECT_THAT(p, IsOk());
  return p.ok() ? *p : KeyPath();
}

TEST(KeyPathTest, DatastoreExampleFormatsAndParses) {
  KeyPath p = P({"Employee", "asalieri", "Address", 1});
  EXPECT_EQ(p.ToString(), "Employee/asalieri/Address/1");
  EXPECT_EQ(p.ToTupleString(), "('Employee', 'asalieri', 'Address', 1)");
  ASSERT_OK_AND_ASSIGN(KeyPath q, KeyPath::Parse("Employee/asalieri/Address/1"));
  EXPECT_EQ(p, q);
  EXPECT_EQ(absl::get<int64_t>(q.elements()[1].id), 1);
}

TEST(KeyPathTest, IntAndStringIdsAreDistinct) {
  KeyPath as_int = P({"Address", 1});
  KeyPath as_str = P({"Address", "1"});
  EXPECT_NE(as_int, as_str);
  EXPECT_EQ(as_str.ToString(), "Address/%31");
  ASSERT_OK_AND_ASSIGN(KeyPath back, KeyPath::Parse("Address/%31"));
  EXPECT_EQ(absl::get<std::string>(back.elements()[0].id), "1");
  // Strings that merely start with digits stay readable.
  EXPECT_EQ(P({"A", "1x"}).ToString(), "A/1x");
}

TEST(KeyPathTest, EscapesRoundTrip) {
  const std::string ids[] = {"a/b",  "a:b", "Zürich",     "..",
                             ".",    "%41", "with space", std::string("nul\0x", 5),
                             "-_.~", "0",   "00",         "9223372036854775808",
                             "日本"};
  for (const std::string& id : ids) {
    KeyPath p = P({"Kind/x", id, "K", int64_t{9223372036854775807}});
    EXPECT_EQ(p.ToString().find("//"), std::string::npos);
    ASSERT_OK_AND_ASSIGN(KeyPath q, KeyPath::Parse(p.ToString()));
    EXPECT_EQ(p, q) << p.ToString();
    EXPECT_EQ(absl::get<std::string>(q.elements()[0].id), id);
  }
  EXPECT_EQ(P({"Dir", "a/b"}).ToString(), "Dir/a%2Fb");
  EXPECT_EQ(P({"Name", ".."}).ToString(), "Name/%2E%2E");
  EXPECT_EQ(P({"City", "Zürich"}).ToString(), "City/Z%C3%BCrich");
}

TEST(KeyPathTest, RejectsInvalidElements) {
  EXPECT_THAT(KeyPath::Of({"Employee"}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("odd")));
  EXPECT_THAT(KeyPath::Of({"", "x"}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("empty")));
  EXPECT_THAT(KeyPath::Of({"K", ""}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("empty")));
  EXPECT_THAT(KeyPath::Of({"K", -1}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("negative")));
  EXPECT_THAT(KeyPath::Of({1, "x"}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("integer")));
  EXPECT_THAT(KeyPath::Of({"K", std::string("\xff\xfe")}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("UTF-8")));
  EXPECT_THAT(KeyPath::Of({"K", std::string(600, 'a')}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("limit")));
}

TEST(KeyPathTest, RejectsInvalidStrings) {
  const char* bad[] = {
      "Employee",                // odd segment count
      "Employee/",               // empty id
      "/x",                      // empty kind
      "a//b/c",                  // empty segment
      "K/../T/x",                // dot segment
      "K/.",                     // dot segment
      "K/a%2fb",                 // lower-case hex
      "K/a%2",                   // truncated escape
      "K/a%ZZ",                  // bad hex
      "K/%41",                   // escaped unreserved: not canonical
      "K/a b",                   // raw space
      "K/01",                    // leading zero
      "K/99999999999999999999",  // out of range
      "1/x",                     // integer kind
      "K/%FF",                   // invalid UTF-8
  };
  for (const char* s : bad) {
    EXPECT_THAT(KeyPath::Parse(s), StatusIs(absl::StatusCode::kInvalidArgument,
                                            HasSubstr("invalid key path")))
        << s;
  }
  EXPECT_THAT(KeyPath::Parse("K/../T/x"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("dot")));
}

TEST(KeyPathTest, EmptyStringIsRoot) {
  ASSERT_OK_AND_ASSIGN(KeyPath root, KeyPath::Parse(""));
  EXPECT_TRUE(root.empty());
  EXPECT_TRUE(P({"A", 1}).IsUnder(root));
}

TEST(KeyPathTest, IsUnderIsElementWise) {
  KeyPath a = P({"Employee", "asalieri"});
  EXPECT_TRUE(P({"Employee", "asalieri", "Address", 1}).IsUnder(a));
  EXPECT_TRUE(a.IsUnder(a));
  EXPECT_FALSE(P({"Employee", "asalieri2"}).IsUnder(a));
  EXPECT_FALSE(P({"Employee", "asalieri2", "Address", 1}).IsUnder(a));
  EXPECT_FALSE(a.IsUnder(P({"Employee", "asalieri", "Address", 1})));
}

TEST(KeyPathTest, DescendantRangeExcludesNamePrefixes) {
  KeyPath a = P({"Employee", "asalieri"});
  KeyRange r = DescendantRange(a);
  auto in = [&](const KeyPath& p) {
    return p.ToString() >= r.begin && p.ToString() < r.end;
  };
  EXPECT_TRUE(in(P({"Employee", "asalieri", "Address", 1})));
  EXPECT_TRUE(in(P({"Employee", "asalieri", "~", "~"})));
  EXPECT_FALSE(in(a));
  EXPECT_FALSE(in(P({"Employee", "asalieri2", "Address", 1})));
  EXPECT_FALSE(in(P({"Employee", "asalieri-x"})));
  EXPECT_FALSE(in(P({"Employee", "asalieri.x"})));
  EXPECT_FALSE(in(P({"Employee", "asalieri%"})));
  EXPECT_FALSE(in(P({"Employee", "asalieri/x", "K", 1})));
  EXPECT_TRUE(DescendantRange(KeyPath::Root()).end.empty());
}

TEST(KeyPathTest, ChildAndConcat) {
  KeyPath a = P({"T", "x"});
  ASSERT_OK_AND_ASSIGN(KeyPath c, a.Child("Cert", int64_t{7}));
  EXPECT_EQ(c.ToString(), "T/x/Cert/7");
  ASSERT_OK_AND_ASSIGN(KeyPath d, a.Concat(c));
  EXPECT_EQ(d.ToString(), "T/x/T/x/Cert/7");
  EXPECT_THAT(a.Child("", "x"), StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace sslshim::certstore
