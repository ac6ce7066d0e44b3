#include "runtime/demo.h"

#include <sstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sslshim::runtime {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(DemoTest, EveryStepDoesWhatItShould) {
  std::ostringstream out;
  EXPECT_EQ(RunDemo(out), 0) << out.str();
  const std::string text = out.str();
  EXPECT_THAT(text, Not(HasSubstr("] FAIL ")));
  EXPECT_THAT(text, HasSubstr("steps did what they should"));
  // The failing halves really failed for the right reasons.
  EXPECT_THAT(text, HasSubstr("CertificateError: hostname 'a.hostname.com' doesn't match"));
  EXPECT_THAT(text, HasSubstr("PEER_DID_NOT_RETURN_A_CERTIFICATE"));
  EXPECT_THAT(text, HasSubstr("SSLCertVerificationError"));
  EXPECT_THAT(text, HasSubstr("'commonName', 'asalieri'"));
}

}  // namespace
}  // namespace sslshim::runtime
