#include "common/event_loop.h"

#include <spdlog/spdlog.h>
#include <sys/epoll.h>

#include <cerrno>
#include <utility>

#include "common/error.h"
#include "common/event_fd.h"

namespace vmrt {

namespace {
constexpr uint64_t kStopId = 0;
// Events taken per wait. Interest is level-triggered, so what does not fit
// is simply reported by the next wait.
constexpr int kBatch = 64;
}  // namespace

EventLoop::EventLoop(std::string name)
    : name_(std::move(name)),
      epoll_(check_sys(::epoll_create1(EPOLL_CLOEXEC), name_ + ": epoll_create1")),
      stop_(make_eventfd(name_ + " stop")) {
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = kStopId;
  check_sys(::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, stop_.get(), &ev), name_ + ": epoll_ctl");
}

EventLoop::~EventLoop() { stop_and_join(); }

void EventLoop::add(int fd, uint32_t events, Handler handler) {
  if (contains(fd)) fail("{}: fd {} is watched already", name_, fd);
  uint64_t id = next_id_++;
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = id;
  check_sys(::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev), name_ + ": epoll_ctl add");
  entries_.emplace(id, Entry{fd, std::make_shared<Handler>(std::move(handler))});
  ids_.emplace(fd, id);
}

void EventLoop::modify(int fd, uint32_t events) {
  auto it = ids_.find(fd);
  if (it == ids_.end()) fail("{}: fd {} is not watched", name_, fd);
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = it->second;
  check_sys(::epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, fd, &ev), name_ + ": epoll_ctl modify");
}

void EventLoop::remove(int fd) noexcept {
  auto it = ids_.find(fd);
  if (it == ids_.end()) return;
  // Fails only when the fd was closed already, which removed it from the
  // set anyway.
  ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr);
  entries_.erase(it->second);
  ids_.erase(it);
}

EventLoop::Wake EventLoop::run_once(int timeout_ms) {
  if (stop_requested()) return Wake::Stopped;
  epoll_event events[kBatch];
  int n;
  while ((n = ::epoll_wait(epoll_.get(), events, kBatch, timeout_ms)) < 0) {
    if (errno != EINTR) throw_errno("epoll_wait");
  }
  if (n == 0) return Wake::Timeout;
  // A stop request outranks whatever else is ready: its owner is going away.
  for (int i = 0; i < n; ++i)
    if (events[i].data.u64 == kStopId) return Wake::Stopped;
  for (int i = 0; i < n; ++i) {
    auto it = entries_.find(events[i].data.u64);
    if (it == entries_.end()) continue;  // removed by an earlier handler
    std::shared_ptr<Handler> handler = it->second.handler;
    (*handler)(events[i].events);
    if (stop_requested()) return Wake::Stopped;
  }
  return Wake::Events;
}

void EventLoop::run(BeforeWait before_wait) {
  while (!stop_requested()) {
    int timeout = before_wait ? before_wait() : -1;
    if (run_once(timeout) == Wake::Stopped) return;
  }
}

void EventLoop::start(BeforeWait before_wait) {
  if (thread_.joinable()) fail("{}: the loop runs already", name_);
  thread_ = std::thread([this, before_wait = std::move(before_wait)]() mutable {
    try {
      run(std::move(before_wait));
    } catch (const std::exception& e) {
      SPDLOG_ERROR("{}: {}", name_, e.what());
    }
  });
}

void EventLoop::stop() noexcept {
  stopping_.store(true, std::memory_order_release);
  signal_eventfd(stop_.get());
}

bool EventLoop::stop_requested() const noexcept {
  return stopping_.load(std::memory_order_acquire);
}

void EventLoop::stop_and_join() noexcept {
  stop();
  if (!thread_.joinable()) return;
  // From a handler the loop cannot wait for itself; it ends once the
  // handler returns.
  if (thread_.get_id() == std::this_thread::get_id())
    thread_.detach();
  else
    thread_.join();
}

}  // namespace vmrt
