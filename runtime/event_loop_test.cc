#include "runtime/event_loop.h"

#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/fd_count.h"
#include "testing/status_matchers.h"

namespace sslshim::runtime {
namespace {

using ::sslshim::testing::IsOk;

TEST(EventLoopTest, TimersRunInDeadlineOrderAndCancelWorks) {
  absl::StatusOr<std::unique_ptr<EventLoop>> loop = EventLoop::Create();
  ASSERT_THAT(loop, IsOk());
  EventLoop& l = **loop;
  std::vector<int> order;
  l.RunAfter(absl::Milliseconds(30), [&] { order.push_back(3); });
  l.RunAfter(absl::Milliseconds(10), [&] { order.push_back(1); });
  EventLoop::TimerId cancelled =
      l.RunAfter(absl::Milliseconds(20), [&] { order.push_back(2); });
  l.Cancel(cancelled);
  l.RunAfter(absl::Milliseconds(40), [&] { l.Stop(); });
  const absl::Time start = absl::Now();
  ASSERT_THAT(l.Run(), IsOk());
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(40));
  EXPECT_THAT(order, ::testing::ElementsAre(1, 3));
}

class Reader : public EventLoop::Watcher {
 public:
  Reader(EventLoop* loop, int fd) : loop_(loop), fd_(fd) {}
  void OnEvents(uint32_t events) override {
    char buf[64];
    ssize_t n = read(fd_, buf, sizeof(buf));
    if (n > 0) got_.append(buf, n);
    if (got_ == "ping") loop_->Stop();
  }
  std::string got_;

 private:
  EventLoop* loop_;
  int fd_;
};

TEST(EventLoopTest, WatchersAndPostsFromOtherThreads) {
  const int fds_before = sslshim::testing::OpenFdCount();
  {
    absl::StatusOr<std::unique_ptr<EventLoop>> loop = EventLoop::Create();
    ASSERT_THAT(loop, IsOk());
    int sv[2];
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
    Reader reader(loop->get(), sv[0]);
    ASSERT_THAT((*loop)->Add(sv[0], EPOLLIN, &reader), IsOk());
    std::atomic<int> posted{0};
    std::thread poster([&] {
      for (int i = 0; i < 100; ++i) (*loop)->Post([&] { ++posted; });
      (*loop)->Post([&] { ASSERT_EQ(write(sv[1], "ping", 4), 4); });
    });
    ASSERT_THAT((*loop)->Run(), IsOk());
    poster.join();
    EXPECT_EQ(reader.got_, "ping");
    EXPECT_EQ(posted.load(), 100);
    (*loop)->Remove(sv[0]);
    close(sv[0]);
    close(sv[1]);
  }
  EXPECT_EQ(sslshim::testing::OpenFdCount(), fds_before);
}

TEST(EventLoopTest, RetiredWatchersDieAfterTheBatch) {
  absl::StatusOr<std::unique_ptr<EventLoop>> loop = EventLoop::Create();
  ASSERT_THAT(loop, IsOk());
  struct Flag : EventLoop::Watcher {
    explicit Flag(bool* dead) : dead(dead) {}
    ~Flag() override { *dead = true; }
    void OnEvents(uint32_t) override {}
    bool* dead;
  };
  bool dead = false;
  (*loop)->Post([&] {
    (*loop)->Retire(std::make_unique<Flag>(&dead));
    EXPECT_FALSE(dead);
    (*loop)->Stop();
  });
  ASSERT_THAT((*loop)->Run(), IsOk());
  EXPECT_TRUE(dead);
}

TEST(EventLoopTest, ModifyUnknownFdFails) {
  absl::StatusOr<std::unique_ptr<EventLoop>> loop = EventLoop::Create();
  ASSERT_THAT(loop, IsOk());
  EXPECT_FALSE((*loop)->Modify(12345, EPOLLIN, nullptr).ok());
}

}  // namespace
}  // namespace sslshim::runtime
