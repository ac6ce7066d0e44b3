#include "runtime/config_vars.h"

#include <cstdlib>
#include <string>

#include "absl/strings/escaping.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/status_matchers.h"

namespace sslshim::runtime {
namespace {

using ::sslshim::testing::IsOk;
using ::sslshim::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

TEST(ConfigVarsTest, EmptyEnvironmentGivesDocumentedDefaults) {
  absl::StatusOr<ConfigVars> vars = ConfigVars::FromEnvironment({});
  ASSERT_THAT(vars, IsOk());
  EXPECT_EQ(vars->verify_env_name(), "PYTHONHTTPSVERIFY");
  EXPECT_FALSE(vars->https_verify().has_value());
  EXPECT_FALSE(vars->ssl_cert_file().has_value());
  EXPECT_EQ(vars->kek(), nullptr);
  EXPECT_EQ(vars->store_url(), "lmdb:/var/lib/sslshim/store");
}

TEST(ConfigVarsTest, ReadsEveryDeclaredVariableFromTheMap) {
  const std::string hex(64, 'a');
  absl::StatusOr<ConfigVars> vars =
      ConfigVars::FromEnvironment({{"PYTHONHTTPSVERIFY", "0"},
                                   {"SSL_CERT_FILE", "/tmp/ca.pem"},
                                   {"SSLSHIM_KEK", hex},
                                   {"SSLSHIM_STORE", "memory:"},
                                   {"UNRELATED", "ignored"}});
  ASSERT_THAT(vars, IsOk());
  EXPECT_EQ(vars->https_verify(), "0");
  EXPECT_EQ(vars->ssl_cert_file(), "/tmp/ca.pem");
  ASSERT_NE(vars->kek(), nullptr);
  EXPECT_EQ(vars->kek()->view(), std::string(32, '\xaa'));
  EXPECT_EQ(vars->store_url(), "memory:");
}

TEST(ConfigVarsTest, KekAcceptsBase64AndWebSafeBase64) {
  const std::string key = "0123456789abcdef0123456789abcdef";
  for (const std::string& text :
       {absl::Base64Escape(key), absl::WebSafeBase64Escape(key)}) {
    absl::StatusOr<ConfigVars> vars =
        ConfigVars::FromEnvironment({{"SSLSHIM_KEK", text}});
    ASSERT_THAT(vars, IsOk()) << text;
    EXPECT_EQ(vars->kek()->view(), key);
  }
}

TEST(ConfigVarsTest, BadKekIsRefusedWithoutShowingIt) {
  for (const std::string& bad :
       {std::string("c2hvcnQ="), std::string(62, 'b'), std::string("!!!")}) {
    EXPECT_THAT(ConfigVars::FromEnvironment({{"SSLSHIM_KEK", bad}}),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         AllOf(HasSubstr("SSLSHIM_KEK"), HasSubstr("32-byte"),
                               Not(HasSubstr(bad)))))
        << bad;
  }
}

TEST(ConfigVarsTest, VerifyToggleIsReadUnderItsConfiguredName) {
  absl::StatusOr<ConfigVars> vars = ConfigVars::FromEnvironment(
      {{"PYTHONHTTPSVERIFY", "0"}, {"MY_VERIFY", "1"}}, "MY_VERIFY");
  ASSERT_THAT(vars, IsOk());
  EXPECT_EQ(vars->verify_env_name(), "MY_VERIFY");
  EXPECT_EQ(vars->https_verify(), "1");
  EXPECT_THAT(ConfigVars::FromEnvironment({}, "9BAD-NAME"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("9BAD-NAME")));
}

TEST(ConfigVarsTest, EmptyPathsAreRefused) {
  EXPECT_THAT(ConfigVars::FromEnvironment({{"SSL_CERT_FILE", ""}}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("SSL_CERT_FILE")));
  EXPECT_THAT(ConfigVars::FromEnvironment({{"SSLSHIM_STORE", ""}}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("SSLSHIM_STORE")));
}

TEST(ConfigVarsTest, ProcessEnvironmentReadsOnlyDeclaredNames) {
  ASSERT_EQ(::setenv("SSL_CERT_FILE", "/from/process.pem", 1), 0);
  ASSERT_EQ(::setenv("SSLSHIM_UNDECLARED", "x", 1), 0);
  ASSERT_EQ(::setenv("CUSTOM_VERIFY", "0", 1), 0);
  Env env = ProcessEnvironment("CUSTOM_VERIFY");
  ::unsetenv("SSL_CERT_FILE");
  ::unsetenv("SSLSHIM_UNDECLARED");
  ::unsetenv("CUSTOM_VERIFY");
  EXPECT_EQ(env["SSL_CERT_FILE"], "/from/process.pem");
  EXPECT_EQ(env["CUSTOM_VERIFY"], "0");
  EXPECT_EQ(env.count("SSLSHIM_UNDECLARED"), 0u);
}

TEST(ConfigVarsTest, MarkdownTableListsEveryVariable) {
  const std::string md = ConfigVarsMarkdown();
  EXPECT_THAT(md, HasSubstr("| Variable | Type | Default | Description |"));
  for (const ConfigVarSpec& v : ConfigVarTable()) {
    EXPECT_THAT(md, HasSubstr("`" + std::string(v.name) + "`"));
  }
  EXPECT_THAT(md, HasSubstr("`/etc/ca-certificates.crt`"));
  EXPECT_EQ(ConfigVarTable().size(), 4u);
}

TEST(ConfigVarsTest, EnvNameValidation) {
  EXPECT_TRUE(IsValidEnvName("PYTHONHTTPSVERIFY"));
  EXPECT_TRUE(IsValidEnvName("_x1"));
  EXPECT_FALSE(IsValidEnvName(""));
  EXPECT_FALSE(IsValidEnvName("1A"));
  EXPECT_FALSE(IsValidEnvName("A-B"));
  EXPECT_FALSE(IsValidEnvName("A B"));
}

}  // namespace
}  // namespace sslshim::runtime
