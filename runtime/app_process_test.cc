#include "runtime/app_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/fd_count.h"
#include "testing/status_matchers.h"

namespace sslshim::runtime {
namespace {

using ::sslshim::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(AppProcessTest, LinesFlowBothWaysWhileTheAppRuns) {
  const int fds_before = ::sslshim::testing::OpenFdCount();
  std::vector<std::string> seen;
  absl::Status s = RunAppProcess(
      [](AppChannel& host) {
        host.Send("hello");
        absl::StatusOr<std::string> reply = host.Receive(absl::Seconds(5));
        host.Send(reply.ok() ? absl::StrCat("got ", *reply) : "no reply");
        host.Send("bad\nline") ? host.Send("sent") : host.Send("refused");
      },
      [&](absl::string_view line, AppChannel& app) {
        seen.emplace_back(line);
        if (line == "hello") app.Send("world");
      },
      absl::Seconds(10));
  EXPECT_OK(s);
  EXPECT_THAT(seen, ElementsAre("hello", "got world", "refused"));
  EXPECT_EQ(::sslshim::testing::OpenFdCount(), fds_before);
}

TEST(AppProcessTest, ReceiveTimesOutAndSeesTheOtherSideGo) {
  std::vector<std::string> seen;
  absl::Status s = RunAppProcess(
      [](AppChannel& host) {
        absl::StatusOr<std::string> r = host.Receive(absl::Milliseconds(50));
        host.Send(r.status().code() == absl::StatusCode::kDeadlineExceeded ? "timeout"
                                                                           : "other");
      },
      [&](absl::string_view line, AppChannel&) { seen.emplace_back(line); },
      absl::Seconds(10));
  EXPECT_OK(s);
  EXPECT_THAT(seen, ElementsAre("timeout"));
}

TEST(AppProcessTest, AHungAppIsKilledAtTheDeadline) {
  const absl::Time start = absl::Now();
  absl::Status s =
      RunAppProcess([](AppChannel&) { pause(); }, [](absl::string_view, AppChannel&) {},
                    absl::Milliseconds(200));
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kDeadlineExceeded, HasSubstr("killed")));
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
}

TEST(AppProcessTest, ACrashIsReportedWithTheSignal) {
  absl::Status s =
      RunAppProcess([](AppChannel&) { raise(SIGTERM); },
                    [](absl::string_view, AppChannel&) {}, absl::Seconds(10));
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kInternal, HasSubstr("signal 15")));
}

TEST(AppProcessTest, ParentAnswersAnAppThatIsGoneWithoutSigpipe) {
  absl::Status s = RunAppProcess([](AppChannel& host) { host.Send("bye"); },
                                 [](absl::string_view, AppChannel& app) {
                                   absl::SleepFor(absl::Milliseconds(50));
                                   for (int i = 0; i < 100; ++i) app.Send("late");
                                 },
                                 absl::Seconds(10));
  EXPECT_OK(s);
}

TEST(DescriptorsUnderTest, NamesExactlyTheFilesUnderTheDirectory) {
  std::string dir = absl::StrCat(::testing::TempDir(), "/fds_under");
  std::string sibling = dir + "x";  // Shares the prefix but is not under dir.
  mkdir(dir.c_str(), 0700);
  mkdir(sibling.c_str(), 0700);
  int a = open((dir + "/a").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  int b = open((sibling + "/b").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  ASSERT_GE(a, 0);
  ASSERT_GE(b, 0);
  EXPECT_THAT(DescriptorsUnder(dir), ElementsAre(a));
  EXPECT_THAT(DescriptorsUnder(dir + "/"), ElementsAre(a));
  close(a);
  close(b);
  EXPECT_TRUE(DescriptorsUnder(dir).empty());
}

}  // namespace
}  // namespace sslshim::runtime
