// event_loop.h
// -----------------------------------------------------------------------------
// EventLoop: one epoll loop run by one thread, with timers (a per-loop
// min-heap) and tasks posted from other threads. The HTTPS server runs one
// loop per core; nothing in a loop ever blocks.
//
//   absl::StatusOr<std::unique_ptr<EventLoop>> loop = EventLoop::Create();
//   class Conn : public EventLoop::Watcher {
//     void OnEvents(uint32_t events) override { ... read until EAGAIN ... }
//   };
//   (*loop)->Add(fd, EPOLLIN, &conn);
//   (*loop)->RunAfter(absl::Seconds(5), [&] { ... timeout ... });
//   std::thread t([&] { (*loop)->Run(); });
//   (*loop)->Post([&] { (*loop)->Stop(); });   // from any thread
//   t.join();
//
// Interest is level-triggered. Watchers that must be destroyed while the loop
// may still hold events for them in the current batch are handed to Retire(),
// which destroys them after the batch.
//
// Thread-safety: Post() and Stop() may be called from any thread; every other
// method only from the loop's own thread (or before Run() starts).

#ifndef SSLSHIM_RUNTIME_EVENT_LOOP_H_
#define SSLSHIM_RUNTIME_EVENT_LOOP_H_

#include <sys/epoll.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <queue>
#include <unordered_map>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace sslshim::runtime {

class EventLoop {
 public:
  // Clock is monotonic: timers never jump with the wall clock.
  using Clock = std::chrono::steady_clock;
  using TimerId = uint64_t;

  // Watcher receives the epoll events (EPOLLIN, EPOLLOUT, EPOLLERR, EPOLLHUP,
  // EPOLLRDHUP) of the fd it was added with. Not owned by the loop.
  class Watcher {
   public:
    virtual ~Watcher() = default;
    virtual void OnEvents(uint32_t events) = 0;
  };

  // Create makes an epoll instance and a wake-up eventfd. Errors:
  // Unavailable naming the failing call and errno.
  static absl::StatusOr<std::unique_ptr<EventLoop>> Create();
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Add / Modify / Remove register `fd` (not owned) for `events`. `watcher`
  // must stay alive until Remove (or until Retire destroys it). Errors:
  // Unavailable with errno (e.g. EEXIST, ENOENT, ENOMEM).
  absl::Status Add(int fd, uint32_t events, Watcher* watcher);
  absl::Status Modify(int fd, uint32_t events, Watcher* watcher);
  void Remove(int fd);

  // Retire takes ownership of `watcher` and destroys it after the current
  // batch of events (its fd must already be removed and closed).
  void Retire(std::unique_ptr<Watcher> watcher);

  // RunAt / RunAfter call `fn` on the loop thread at (or soon after) `when`.
  // Returns an id for Cancel. Timers run in deadline order.
  TimerId RunAt(Clock::time_point when, std::function<void()> fn);
  TimerId RunAfter(absl::Duration delay, std::function<void()> fn);

  // Cancel drops a timer that has not run yet (no-op for unknown ids).
  void Cancel(TimerId id);

  // Post queues `fn` to run on the loop thread and wakes the loop. Safe from
  // any thread, including the loop's own.
  void Post(std::function<void()> fn);

  // Run processes events, timers and posted tasks until Stop(). Returns OK,
  // or Internal when epoll_wait fails with something other than EINTR.
  absl::Status Run();

  // Stop makes Run() return after the current batch. Any thread.
  void Stop();

  // Stopped is true once Stop() was called. Any thread.
  bool Stopped() const { return stop_.load(std::memory_order_acquire); }

  // Now is the loop's cached time, refreshed once per batch (cheap).
  Clock::time_point Now() const { return now_; }

  // ToClock converts a relative duration into a Clock duration.
  static Clock::duration ToClock(absl::Duration d) {
    return std::chrono::nanoseconds(absl::ToInt64Nanoseconds(d));
  }

 private:
  EventLoop(int epoll_fd, int wake_fd);
  void RunTimers();
  void RunPosted();
  int NextTimeoutMs();

  struct TimerEntry {
    Clock::time_point when;
    TimerId id;
    bool operator>(const TimerEntry& o) const {
      return when != o.when ? when > o.when : id > o.id;
    }
  };

  const int epoll_fd_;
  const int wake_fd_;
  std::atomic<bool> stop_{false};
  Clock::time_point now_;
  TimerId next_timer_id_ = 1;
  std::priority_queue<TimerEntry, std::vector<TimerEntry>,
                      std::greater<TimerEntry>>
      timer_heap_;
  // Live timers; cancelled ones are erased here and skipped in the heap.
  std::unordered_map<TimerId, std::function<void()>> timers_;
  std::vector<std::unique_ptr<Watcher>> retired_;

  std::mutex posted_mu_;
  std::vector<std::function<void()>> posted_;  // Guarded by posted_mu_.
};

}  // namespace sslshim::runtime

#endif  // SSLSHIM_RUNTIME_EVENT_LOOP_H_
