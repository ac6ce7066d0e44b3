#include "runtime/termination_signal.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "runtime/context_provider.h"
#include "runtime/forked_child.h"
#include "runtime/https_server.h"
#include "runtime/https_server_test_util.h"
#include "testing/status_matchers.h"

namespace sslshim::runtime {
namespace {

using ::sslshim::runtime::testing::ChildReporter;
using ::sslshim::runtime::testing::ChildResult;
using ::sslshim::runtime::testing::ReadResponse;
using ::sslshim::runtime::testing::RunInForkedChild;
using ::sslshim::runtime::testing::ServerPki;

TEST(TerminationSignalTest, RefusesToWaitWhenNotBlocked) {
  // The test process never blocks the signals itself.
  EXPECT_THAT(WaitForTerminationSignal(absl::Milliseconds(10)),
              sslshim::testing::StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST(TerminationSignalTest, TimesOutWithoutASignal) {
  ChildResult r = RunInForkedChild([](ChildReporter& out) {
    out.ReportStatus("block", BlockTerminationSignals());
    out.ReportStatus("wait",
                     WaitForTerminationSignal(absl::Milliseconds(50)).status());
  });
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_EQ(r.Get("block"), "OK");
  EXPECT_THAT(r.Get("wait"), ::testing::HasSubstr("DEADLINE_EXCEEDED"));
}

// A server binary's main: SIGTERM arrives while a request is in flight; the
// request completes (Connection: close), then the process exits cleanly.
TEST(TerminationSignalTest, SigtermShutsDownGracefully) {
  const ServerPki pki = ServerPki::Make();
  ChildResult r = RunInForkedChild(
      [&pki](ChildReporter& out) {
        if (!BlockTerminationSignals().ok()) return;
        HttpsServerOptions options;
        options.threads = 1;
        auto server = HttpsServer::Start(
            options, FixedContextProvider(pki.ServerContext(false)),
            [](const HttpRequest& req) -> absl::StatusOr<HttpResponse> {
              kill(getpid(), SIGTERM);  // Arrives mid-request.
              absl::SleepFor(absl::Milliseconds(300));
              return HttpResponse{.body = "finished " + req.target};
            });
        if (!server.ok()) return out.ReportStatus("start", server.status());
        const int port = (*server)->port();
        std::thread client([&] {
          auto c = pki.Connect(port);
          if (!c.ok()) return out.ReportStatus("client", c.status());
          (void)(*c)->sendall("GET /work HTTP/1.1\r\nHost: x\r\n\r\n");
          auto resp = ReadResponse(**c);
          if (!resp.ok()) return out.ReportStatus("client", resp.status());
          out.Report("body", resp->body);
          out.Report("closes", resp->closes ? "yes" : "no");
        });
        absl::StatusOr<int> sig = WaitForTerminationSignal(absl::Seconds(10));
        out.Report("signal", sig.ok() ? absl::StrCat(*sig) : sig.status().ToString());
        (*server)->Shutdown(absl::Seconds(5));
        client.join();
        out.Report("open_after", absl::StrCat((*server)->Stats().connections_open));
      },
      absl::Seconds(30));
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_EQ(r.Get("signal"), absl::StrCat(SIGTERM));
  EXPECT_EQ(r.Get("body"), "finished /work");
  EXPECT_EQ(r.Get("closes"), "yes");
  EXPECT_EQ(r.Get("open_after"), "0");
}

}  // namespace
}  // namespace sslshim::runtime
