// attack_test.h (testonly)
// -----------------------------------------------------------------------------
// The adversarial suite's fixtures: each test starts a fresh target, warms
// it up and records its baseline; the test attacks, then asserts
// Recovered(); TearDown stops the target, which must exit 0 on SIGTERM
// (and pass LeakSanitizer under ASan).
//
//   TEST_P(TlsAttackTest, Garbage) {     // TlsAttackTest = AttackTest
//     StartTarget();                      // GetParam() says which target
//     ... attack port() ...
//     EXPECT_TRUE(target().Recovered());
//   }
//   INSTANTIATE_TEST_SUITE_P(Targets, TlsAttackTest, BothTargets(),
//                            TargetParamName);
//
// The test process ignores SIGPIPE (its own clients write to sockets the
// server reset); targets start with the default action (target.h).

#ifndef SSLSHIM_TESTS_ADVERSARIAL_ATTACK_TEST_H_
#define SSLSHIM_TESTS_ADVERSARIAL_ATTACK_TEST_H_

#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "tests/adversarial/target.h"

namespace sslshim::adversarial {

// IgnoreSigpipe makes the test process's own writes to reset sockets
// return EPIPE.
void IgnoreSigpipe();

// StartBaselined starts a target and records its baseline; nullptr (with
// a test failure) when it does not start.
std::unique_ptr<Target> StartBaselined(TargetKind kind,
                                       const TargetOptions& options);

// RecordFigures writes the target's fd count and RSS, at baseline and now,
// into the test's XML result (baseline_fds, fds, baseline_rss_kb, rss_kb).
void RecordFigures(const Target& target);

// AttackFixture: any parameter type; the test passes the target kind.
template <typename Param>
class AttackFixture : public ::testing::TestWithParam<Param> {
 protected:
  void SetUp() override { IgnoreSigpipe(); }
  void TearDown() override {
    if (target_ != nullptr) {
      RecordFigures(*target_);
      EXPECT_TRUE(target_->Stop());
    }
    target_.reset();
  }

  void StartTargetOf(TargetKind kind, const TargetOptions& options) {
    target_ = StartBaselined(kind, options);
    ASSERT_NE(target_, nullptr);
  }
  Target& target() { return *target_; }
  int port() const { return target_->port(); }

 private:
  std::unique_ptr<Target> target_;
};

// AttackTest: parameterised by the target kind alone.
class AttackTest : public AttackFixture<TargetKind> {
 protected:
  void StartTarget(const TargetOptions& options = {}) {
    StartTargetOf(GetParam(), options);
  }
};

// BothTargets: the library server and the sslshim binary.
::testing::internal::ParamGenerator<TargetKind> BothTargets();

// TargetParamName names a test instance after its target.
std::string TargetParamName(const ::testing::TestParamInfo<TargetKind>& info);

}  // namespace sslshim::adversarial

#endif  // SSLSHIM_TESTS_ADVERSARIAL_ATTACK_TEST_H_
