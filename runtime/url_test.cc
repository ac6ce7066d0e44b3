#include "runtime/url.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/status_matchers.h"

namespace sslshim::runtime {
namespace {

using ::sslshim::testing::IsOk;
using ::sslshim::testing::StatusIs;
using ::testing::HasSubstr;

TEST(ParseUrlTest, HttpsWithDefaults) {
  ASSERT_OK_AND_ASSIGN(Url u, ParseUrl("HTTPS://Example.COM"));
  EXPECT_EQ(u.scheme, "https");
  EXPECT_EQ(u.host, "example.com");
  EXPECT_FALSE(u.host_is_ip);
  EXPECT_EQ(u.port, 443);
  EXPECT_TRUE(u.default_port);
  EXPECT_EQ(u.target, "/");
  EXPECT_EQ(u.HostHeader(), "example.com");
  EXPECT_EQ(u.ToString(), "https://example.com/");
}

TEST(ParseUrlTest, PortPathQuery) {
  ASSERT_OK_AND_ASSIGN(Url u, ParseUrl("http://a.b:8080/x/y?q=1&r=%20"));
  EXPECT_EQ(u.port, 8080);
  EXPECT_FALSE(u.default_port);
  EXPECT_EQ(u.target, "/x/y?q=1&r=%20");
  EXPECT_EQ(u.HostHeader(), "a.b:8080");
}

TEST(ParseUrlTest, ExplicitDefaultPortIsDefault) {
  ASSERT_OK_AND_ASSIGN(Url u, ParseUrl("https://a.b:443/"));
  EXPECT_TRUE(u.default_port);
  EXPECT_EQ(u.HostHeader(), "a.b");
}

TEST(ParseUrlTest, QueryWithoutPath) {
  ASSERT_OK_AND_ASSIGN(Url u, ParseUrl("https://a.b?x=1"));
  EXPECT_EQ(u.target, "/?x=1");
}

TEST(ParseUrlTest, IpLiterals) {
  ASSERT_OK_AND_ASSIGN(Url v4, ParseUrl("https://127.0.0.1:8443/p"));
  EXPECT_TRUE(v4.host_is_ip);
  EXPECT_EQ(v4.host, "127.0.0.1");
  ASSERT_OK_AND_ASSIGN(Url v6, ParseUrl("https://[::1]:8443/p"));
  EXPECT_TRUE(v6.host_is_ip);
  EXPECT_EQ(v6.host, "::1");
  EXPECT_EQ(v6.HostHeader(), "[::1]:8443");
  EXPECT_EQ(v6.ToString(), "https://[::1]:8443/p");
}

TEST(ParseUrlTest, NonAsciiPathIsPercentEncoded) {
  ASSERT_OK_AND_ASSIGN(Url u, ParseUrl("https://a.b/caf\xc3\xa9"));
  EXPECT_EQ(u.target, "/caf%C3%A9");
}

TEST(ParseUrlTest, Refusals) {
  struct Case {
    const char* url;
    const char* why;
  } cases[] = {
      {"", "empty"},
      {"example.com/x", "not an absolute URL"},
      {"ftp://a.b/", "unsupported scheme 'ftp'"},
      {"https:///x", "missing host"},
      {"https://:443/x", "missing host"},
      {"https://user:pw@a.b/", "userinfo"},
      {"https://a.b/#frag", "fragment"},
      {"https://a.b/x y", "space or control"},
      {"https://a.b:0/", "port out of range"},
      {"https://a.b:65536/", "port out of range"},
      {"https://a.b:99999999999/", "port out of range"},
      {"https://a.b:8x/", "port is not a number"},
      {"https://[::1/", "unterminated"},
      {"https://[zz::1]/", "is not an IPv6 address"},
      {"https://[::1]x/", "unexpected text after ']'"},
      {"https://::1/", "in brackets"},
      {"https://a!b/", "outside [A-Za-z0-9.-_]"},
      {"https://127.1/", "looks numeric"},
      {"https://0x7f.1/", "looks numeric"},
  };
  for (const Case& c : cases) {
    EXPECT_THAT(ParseUrl(c.url),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(c.why)))
        << c.url;
  }
}

TEST(ResolveUrlTest, Rfc3986Examples) {
  ASSERT_OK_AND_ASSIGN(Url base, ParseUrl("http://a/b/c/d;p?q"));
  struct Case {
    const char* ref;
    const char* want;
  } cases[] = {
      {"g", "http://a/b/c/g"},
      {"./g", "http://a/b/c/g"},
      {"g/", "http://a/b/c/g/"},
      {"/g", "http://a/g"},
      {"//g", "http://g/"},
      {"?y", "http://a/b/c/d;p?y"},
      {"g?y", "http://a/b/c/g?y"},
      {"#s", "http://a/b/c/d;p?q"},
      {"g#s", "http://a/b/c/g"},
      {"", "http://a/b/c/d;p?q"},
      {".", "http://a/b/c/"},
      {"./", "http://a/b/c/"},
      {"..", "http://a/b/"},
      {"../", "http://a/b/"},
      {"../g", "http://a/b/g"},
      {"../..", "http://a/"},
      {"../../g", "http://a/g"},
      {"../../../g", "http://a/g"},
      {"/./g", "http://a/g"},
      {"/../g", "http://a/g"},
      {"g;x=1/../y", "http://a/b/c/y"},
      {"https://x.y:8443/z", "https://x.y:8443/z"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<Url> u = ResolveUrl(base, c.ref);
    ASSERT_THAT(u, IsOk()) << c.ref;
    EXPECT_EQ(u->ToString(), c.want) << c.ref;
  }
}

TEST(ResolveUrlTest, BadLocationIsAnError) {
  ASSERT_OK_AND_ASSIGN(Url base, ParseUrl("https://a.b/"));
  EXPECT_THAT(ResolveUrl(base, "ftp://x/"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("ftp")));
  EXPECT_THAT(ResolveUrl(base, "//user@evil/"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("userinfo")));
}

}  // namespace
}  // namespace sslshim::runtime
