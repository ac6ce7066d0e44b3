#include "runtime/app_config.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "shim/reader.h"
#include "testing/status_matchers.h"

namespace sslshim::runtime {
namespace {

using shim::TLSVersion;
using ::sslshim::testing::IsOk;
using ::sslshim::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kAppYaml[] = R"(runtime: python27
api_version: 1
threadsafe: true
libraries:
- name: webapp2
  version: "2.5.2"
- name: ssl
  version: latest
env_variables:
  PYTHONHTTPSVERIFY: 1
  GREETING: 'hello: world'
ca_bundle: /srv/app/ca.pem
verify_env_name: APP_HTTPS_VERIFY
)";

TEST(AppConfigTest, ParsesTheAppEngineShape) {
  absl::StatusOr<AppConfig> c = ParseAppConfig(kAppYaml);
  ASSERT_THAT(c, IsOk());
  EXPECT_EQ(c->runtime, "python27");
  EXPECT_TRUE(c->ssl_enabled);
  EXPECT_EQ(c->ssl_version, "latest");
  EXPECT_EQ(c->tls.minimum, TLSVersion::TLSv1_2);
  EXPECT_EQ(c->tls.maximum, TLSVersion::TLSv1_3);
  EXPECT_EQ(c->env_variables,
            (Env{{"PYTHONHTTPSVERIFY", "1"}, {"GREETING", "hello: world"}}));
  EXPECT_EQ(c->ca_bundle, "/srv/app/ca.pem");
  EXPECT_EQ(c->verify_env_name, "APP_HTTPS_VERIFY");
  EXPECT_THAT(c->RequireSsl(), IsOk());
}

TEST(AppConfigTest, ParsesFromAReader) {
  absl::StatusOr<AppConfig> c = LoadAppConfig(shim::StringIO(kAppYaml));
  ASSERT_THAT(c, IsOk());
  EXPECT_TRUE(c->ssl_enabled);
  // Errors from a reader name the reader.
  EXPECT_THAT(LoadAppConfig(shim::StringIO("bogus: 1\n")),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("StringIO:1: unknown key \"bogus\"")));
  EXPECT_THAT(LoadAppConfig(shim::Source("/nonexistent/app.yaml")),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("/nonexistent/app.yaml")));
}

TEST(AppConfigTest, PinnedVersionsMapToTlsRanges) {
  absl::StatusOr<AppConfig> c =
      ParseAppConfig("libraries:\n- name: ssl\n  version: 2.7.11\n");
  ASSERT_THAT(c, IsOk());
  EXPECT_EQ(c->ssl_version, "2.7.11");
  EXPECT_EQ(c->tls.minimum, TLSVersion::TLSv1);
  EXPECT_EQ(c->tls.maximum, TLSVersion::TLSv1_2);
  EXPECT_THAT(TlsRangeForSslVersion("2.7"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("deprecated")));
}

TEST(AppConfigTest, WithoutSslTheFacadeIsRefusedShowingTheLines) {
  for (const char* yaml :
       {"", "runtime: python27\n", "libraries:\n- name: jinja2\n  version: latest\n"}) {
    absl::StatusOr<AppConfig> c = ParseAppConfig(yaml);
    ASSERT_THAT(c, IsOk()) << yaml;
    EXPECT_FALSE(c->ssl_enabled);
    EXPECT_THAT(c->RequireSsl(), StatusIs(absl::StatusCode::kFailedPrecondition,
                                          AllOf(HasSubstr("- name: ssl\n"),
                                                HasSubstr("  version: latest"))));
  }
}

struct BadCase {
  const char* name;
  const char* yaml;
  const char* expected;  // Substring, starting with "app.yaml:<line>:".
};

class AppConfigBadTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(AppConfigBadTest, IsInvalidArgumentWithLineNumber) {
  EXPECT_THAT(
      ParseAppConfig(GetParam().yaml),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(GetParam().expected)));
}

INSTANTIATE_TEST_SUITE_P(
    Table, AppConfigBadTest,
    ::testing::Values(
        BadCase{"UnclosedFlowList", "runtime: x\nlibraries: [\n",
                "app.yaml:3: malformed YAML"},
        BadCase{"BadIndent", "libraries:\n- name: ssl\n   version: latest\n",
                "app.yaml:3: malformed YAML"},
        BadCase{"UnknownTopKey", "runtime: x\n\nhandlers: []\n",
                "app.yaml:3: unknown key \"handlers\""},
        BadCase{"UnknownVersion", "libraries:\n- name: ssl\n  version: 9.9\n",
                "app.yaml:2: unknown ssl library version \"9.9\"; accepted: "
                "latest"},
        BadCase{"DeprecatedVersion", "libraries:\n- name: ssl\n  version: '2.7'\n",
                "app.yaml:2: ssl library version 2.7"},
        BadCase{"NoVersion", "libraries:\n- name: ssl\n",
                "app.yaml:2: the ssl library needs a version"},
        BadCase{"LibrariesNotAList", "libraries:\n  name: ssl\n",
                "app.yaml:2: libraries must be a list"},
        BadCase{"EntryNotAMap", "libraries:\n- ssl\n",
                "app.yaml:2: a libraries entry must be a mapping"},
        BadCase{"EntryUnknownKey",
                "libraries:\n- name: ssl\n  version: latest\n  flavor: x\n",
                "app.yaml:4: unknown key \"flavor\" in a libraries entry"},
        BadCase{"EntryWithoutName", "libraries:\n- version: latest\n",
                "app.yaml:2: a libraries entry has no name"},
        BadCase{"SslTwice",
                "libraries:\n- name: ssl\n  version: latest\n- name: ssl\n"
                "  version: latest\n",
                "app.yaml:4: library \"ssl\" is listed twice"},
        BadCase{"VersionIsAList", "libraries:\n- name: ssl\n  version: [latest]\n",
                "app.yaml:3: library version must be a string or number"},
        BadCase{"EnvNotAMap", "env_variables:\n- A\n",
                "app.yaml:2: env_variables must be a mapping"},
        BadCase{"EnvValueIsAMap", "env_variables:\n  A: 1\n  B:\n    C: 2\n",
                "app.yaml:4: env_variables.B must be a string or number, not "
                "a mapping"},
        BadCase{"EnvValueIsNull", "env_variables:\n  A: 1\n  B:\n",
                "app.yaml:3: env_variables.B must be a string or number, not "
                "nothing"},
        BadCase{"EnvBadName", "env_variables:\n  'A-B': 1\n",
                "app.yaml:2: env_variables: \"A-B\" is not a valid variable"},
        BadCase{"DuplicateEnv",
                "env_variables:\n  PYTHONHTTPSVERIFY: 1\n  PYTHONHTTPSVERIFY: 0\n",
                "app.yaml:3: duplicate key \"PYTHONHTTPSVERIFY\""},
        BadCase{"DuplicateTop", "runtime: a\nruntime: b\n",
                "app.yaml:2: duplicate key \"runtime\""},
        BadCase{"ThreadsafeNotBool", "threadsafe: sometimes\n",
                "app.yaml:1: threadsafe must be true or false"},
        BadCase{"RuntimeIsAMap", "runtime:\n  a: b\n",
                "app.yaml:2: runtime must be a string or number"},
        BadCase{"EmptyCaBundle", "ca_bundle: ''\n",
                "app.yaml:1: ca_bundle must not be empty"},
        BadCase{"BadVerifyEnvName", "verify_env_name: 'no spaces'\n",
                "app.yaml:1: verify_env_name \"no spaces\" is not a valid"},
        BadCase{"TopIsAList", "- a\n- b\n",
                "app.yaml:1: the app config must be a mapping"},
        BadCase{"TopIsAScalar", "just text\n",
                "app.yaml:1: the app config must be a mapping"},
        BadCase{"NonScalarKey", "? [a, b]\n: c\n",
                "app.yaml:1: a key of the app config must be a string"},
        BadCase{"TabIndent", "env_variables:\n\tA: 1\n", "malformed YAML"}),
    [](const ::testing::TestParamInfo<BadCase>& info) {
      return std::string(info.param.name);
    });

TEST(AppConfigTest, OversizedConfigIsRefused) {
  std::string big = "runtime: '" + std::string((1 << 20) + 1, 'x') + "'\n";
  EXPECT_THAT(ParseAppConfig(big),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("at most")));
}

TEST(AppConfigTest, DeepNestingFailsCleanly) {
  std::string deep = "env_variables:\n  A: " + std::string(5000, '[') + "\n";
  EXPECT_THAT(ParseAppConfig(deep),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("app.yaml:")));
}

// Found by tests/fuzz/app_config_fuzzer: yaml-cpp quotes the offending
// character raw, so a CR or LF after a backslash split the one-line error.
TEST(AppConfigTest, MalformedYamlErrorStaysOneLine) {
  absl::StatusOr<AppConfig> c = ParseAppConfig("a: \"\\\r\"\n");
  EXPECT_THAT(c, StatusIs(absl::StatusCode::kInvalidArgument,
                          HasSubstr("app.yaml:1: malformed YAML: unknown escape "
                                    "character: \\r")));
  EXPECT_THAT(c.status().message(), Not(HasSubstr("\r")));
}

}  // namespace
}  // namespace sslshim::runtime
