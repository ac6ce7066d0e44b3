#include "runtime/event_loop.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"

namespace sslshim::runtime {
namespace {

absl::Status ErrnoStatus(absl::string_view what, int err) {
  return absl::UnavailableError(absl::StrCat(what, ": ", std::strerror(err)));
}

// Events taken per epoll_wait. The wake-up eventfd is registered with
// data.ptr == nullptr.
constexpr int kMaxEvents = 256;

}  // namespace

absl::StatusOr<std::unique_ptr<EventLoop>> EventLoop::Create() {
  const int epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd < 0) return ErrnoStatus("epoll_create1", errno);
  const int wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd < 0) {
    const int err = errno;
    close(epoll_fd);
    return ErrnoStatus("eventfd", err);
  }
  std::unique_ptr<EventLoop> loop(new EventLoop(epoll_fd, wake_fd));
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.ptr = nullptr;
  if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, wake_fd, &ev) != 0) {
    return ErrnoStatus("epoll_ctl(eventfd)", errno);
  }
  return loop;
}

EventLoop::EventLoop(int epoll_fd, int wake_fd)
    : epoll_fd_(epoll_fd), wake_fd_(wake_fd), now_(Clock::now()) {}

EventLoop::~EventLoop() {
  close(wake_fd_);
  close(epoll_fd_);
}

namespace {

absl::Status Ctl(int epoll_fd, int op, int fd, uint32_t events,
                 EventLoop::Watcher* watcher) {
  epoll_event ev{};
  ev.events = events;
  ev.data.ptr = watcher;
  if (epoll_ctl(epoll_fd, op, fd, &ev) != 0) {
    return ErrnoStatus(op == EPOLL_CTL_ADD ? "epoll_ctl(ADD)" : "epoll_ctl(MOD)",
                       errno);
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status EventLoop::Add(int fd, uint32_t events, Watcher* watcher) {
  return Ctl(epoll_fd_, EPOLL_CTL_ADD, fd, events, watcher);
}

absl::Status EventLoop::Modify(int fd, uint32_t events, Watcher* watcher) {
  return Ctl(epoll_fd_, EPOLL_CTL_MOD, fd, events, watcher);
}

void EventLoop::Remove(int fd) {
  epoll_event ev{};
  epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, &ev);
}

void EventLoop::Retire(std::unique_ptr<Watcher> watcher) {
  retired_.push_back(std::move(watcher));
}

EventLoop::TimerId EventLoop::RunAt(Clock::time_point when,
                                    std::function<void()> fn) {
  const TimerId id = next_timer_id_++;
  timers_.emplace(id, std::move(fn));
  timer_heap_.push(TimerEntry{when, id});
  return id;
}

EventLoop::TimerId EventLoop::RunAfter(absl::Duration delay,
                                       std::function<void()> fn) {
  return RunAt(Clock::now() + ToClock(delay), std::move(fn));
}

void EventLoop::Cancel(TimerId id) { timers_.erase(id); }

void EventLoop::Post(std::function<void()> fn) {
  {
    std::lock_guard<std::mutex> lock(posted_mu_);
    posted_.push_back(std::move(fn));
  }
  const uint64_t one = 1;
  // A full counter (EAGAIN) already means "wake up".
  (void)!write(wake_fd_, &one, sizeof(one));
}

void EventLoop::Stop() {
  stop_.store(true, std::memory_order_release);
  const uint64_t one = 1;
  (void)!write(wake_fd_, &one, sizeof(one));
}

int EventLoop::NextTimeoutMs() {
  while (!timer_heap_.empty() && timers_.count(timer_heap_.top().id) == 0) {
    timer_heap_.pop();  // Cancelled.
  }
  if (timer_heap_.empty()) return -1;
  const auto left = timer_heap_.top().when - Clock::now();
  if (left <= Clock::duration::zero()) return 0;
  // Round up so a timer is never run early.
  const int64_t ms =
      std::chrono::ceil<std::chrono::milliseconds>(left).count();
  return static_cast<int>(std::min<int64_t>(ms, INT_MAX));
}

void EventLoop::RunTimers() {
  while (!timer_heap_.empty() && timer_heap_.top().when <= now_) {
    const TimerId id = timer_heap_.top().id;
    timer_heap_.pop();
    auto it = timers_.find(id);
    if (it == timers_.end()) continue;  // Cancelled.
    std::function<void()> fn = std::move(it->second);
    timers_.erase(it);
    fn();
  }
}

void EventLoop::RunPosted() {
  std::vector<std::function<void()>> tasks;
  {
    std::lock_guard<std::mutex> lock(posted_mu_);
    tasks.swap(posted_);
  }
  for (auto& fn : tasks) fn();
}

absl::Status EventLoop::Run() {
  epoll_event events[kMaxEvents];
  while (!stop_.load(std::memory_order_acquire)) {
    const int n = epoll_wait(epoll_fd_, events, kMaxEvents, NextTimeoutMs());
    if (n < 0 && errno != EINTR) {
      return absl::InternalError(
          absl::StrCat("epoll_wait: ", std::strerror(errno)));
    }
    now_ = Clock::now();
    for (int i = 0; i < n; ++i) {
      auto* watcher = static_cast<Watcher*>(events[i].data.ptr);
      if (watcher == nullptr) {
        uint64_t count;
        (void)!read(wake_fd_, &count, sizeof(count));
        continue;
      }
      watcher->OnEvents(events[i].events);
    }
    RunPosted();
    RunTimers();
    retired_.clear();
  }
  RunPosted();
  retired_.clear();
  return absl::OkStatus();
}

}  // namespace sslshim::runtime
