#include "runtime/verify_policy.h"

#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/status_matchers.h"

namespace sslshim::runtime {
namespace {

using ::sslshim::testing::IsOk;
using ::sslshim::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;

// CapturingSink records log lines (thread-safe).
struct CapturingSink {
  std::mutex mu;
  std::vector<std::string> lines;
  LogSink sink() {
    return [this](absl::string_view line) {
      std::lock_guard<std::mutex> lock(mu);
      lines.emplace_back(line);
    };
  }
};

std::shared_ptr<VerifyPolicy> Policy(const Env& env, CapturingSink& cap,
                                     absl::string_view name = kHttpsVerifyVar) {
  absl::StatusOr<ConfigVars> vars = ConfigVars::FromEnvironment(env, name);
  EXPECT_THAT(vars, IsOk());
  absl::StatusOr<std::shared_ptr<VerifyPolicy>> p =
      VerifyPolicy::Create(*vars, cap.sink());
  EXPECT_THAT(p, IsOk());
  return p.ok() ? *p : nullptr;
}

TEST(VerifyPolicyTest, UnsetAndOneVerifyWithoutWarning) {
  for (const Env& env :
       {Env{}, Env{{"PYTHONHTTPSVERIFY", "1"}}, Env{{"PYTHONHTTPSVERIFY", " 1\n"}}}) {
    CapturingSink cap;
    auto p = Policy(env, cap);
    ASSERT_NE(p, nullptr);
    EXPECT_TRUE(p->verify_by_default());
    EXPECT_TRUE(p->ClientVerify(absl::nullopt));
    EXPECT_EQ(p->ClientCertReqs(absl::nullopt), shim::CERT_REQUIRED);
    EXPECT_TRUE(cap.lines.empty());
    EXPECT_FALSE(p->warned());
  }
}

TEST(VerifyPolicyTest, ZeroTurnsDefaultsOffAndWarnsExactlyOnce) {
  CapturingSink cap;
  auto p = Policy({{"PYTHONHTTPSVERIFY", "0"}}, cap);
  ASSERT_NE(p, nullptr);
  EXPECT_FALSE(p->verify_by_default());
  EXPECT_TRUE(cap.lines.empty()) << "no warning before the toggle is used";
  EXPECT_EQ(p->ClientCertReqs(absl::nullopt), shim::CERT_NONE);
  EXPECT_FALSE(p->ClientVerify(absl::nullopt));
  EXPECT_EQ(p->ClientCertReqs(absl::nullopt), shim::CERT_NONE);
  ASSERT_EQ(cap.lines.size(), 1u);
  EXPECT_THAT(cap.lines[0], AllOf(HasSubstr("WARNING"), HasSubstr("PYTHONHTTPSVERIFY=0"),
                                  HasSubstr("verification is OFF")));
  EXPECT_TRUE(p->warned());
}

TEST(VerifyPolicyTest, ExplicitValuesWinBothWaysAndDoNotWarn) {
  CapturingSink cap_off, cap_on;
  auto off = Policy({{"PYTHONHTTPSVERIFY", "0"}}, cap_off);
  auto on = Policy({}, cap_on);
  EXPECT_EQ(off->ClientCertReqs(shim::CERT_REQUIRED), shim::CERT_REQUIRED);
  EXPECT_EQ(off->ClientCertReqs(shim::CERT_OPTIONAL), shim::CERT_OPTIONAL);
  EXPECT_TRUE(off->ClientVerify(true));
  EXPECT_EQ(on->ClientCertReqs(shim::CERT_NONE), shim::CERT_NONE);
  EXPECT_FALSE(on->ClientVerify(false));
  EXPECT_TRUE(cap_off.lines.empty());
  EXPECT_TRUE(cap_on.lines.empty());
}

TEST(VerifyPolicyTest, OtherValuesAreErrorsNamingTheVariable) {
  for (const char* bad : {"true", "2", "", "yes", "00", "-1"}) {
    absl::StatusOr<ConfigVars> vars =
        ConfigVars::FromEnvironment({{"PYTHONHTTPSVERIFY", bad}});
    ASSERT_THAT(vars, IsOk());
    EXPECT_THAT(VerifyPolicy::Create(*vars),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         AllOf(HasSubstr("PYTHONHTTPSVERIFY"), HasSubstr("use 1"),
                               HasSubstr("or 0"))))
        << bad;
  }
}

TEST(VerifyPolicyTest, ConfiguredNameIsUsedInWarningsAndErrors) {
  CapturingSink cap;
  auto p = Policy({{"APP_VERIFY", "0"}, {"PYTHONHTTPSVERIFY", "1"}}, cap, "APP_VERIFY");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->variable(), "APP_VERIFY");
  EXPECT_FALSE(p->ClientVerify(absl::nullopt));
  ASSERT_EQ(cap.lines.size(), 1u);
  EXPECT_THAT(cap.lines[0], HasSubstr("APP_VERIFY=0"));
  absl::StatusOr<ConfigVars> vars =
      ConfigVars::FromEnvironment({{"APP_VERIFY", "maybe"}}, "APP_VERIFY");
  EXPECT_THAT(VerifyPolicy::Create(*vars), StatusIs(absl::StatusCode::kInvalidArgument,
                                                    HasSubstr("APP_VERIFY=\"maybe\"")));
}

TEST(VerifyPolicyTest, ConcurrentUseWarnsOnce) {
  CapturingSink cap;
  auto p = Policy({{"PYTHONHTTPSVERIFY", "0"}}, cap);
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      for (int j = 0; j < 100; ++j) p->ClientVerify(absl::nullopt);
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(cap.lines.size(), 1u);
}

}  // namespace
}  // namespace sslshim::runtime
