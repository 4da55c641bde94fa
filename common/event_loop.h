#pragma once
// One epoll loop for every thread that waits on several fds: the epoll set,
// the eventfd that stops it, the EINTR retry, the dispatch to each fd's
// handler and (when asked) the thread it runs on, joined on destruction.
// Users keep only their handlers.
//
// Registration (add, modify, remove) is for the thread that runs the loop,
// or for any thread before the loop runs: handlers are looked up without a
// lock. stop() is the one call meant for other threads.

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <unordered_map>

#include "common/fd.h"

namespace vmrt {

class EventLoop {
 public:
  // Gets the epoll events that fired (EPOLLIN, EPOLLOUT, EPOLLHUP, ...).
  using Handler = std::function<void(uint32_t events)>;
  // Runs before each wait (a batch of queue work, re-arming interest) and
  // returns that wait's timeout in milliseconds: -1 waits for an event, 0
  // only looks.
  using BeforeWait = std::function<int()>;

  enum class Wake {
    Events,   // handlers ran for what fired
    Timeout,  // the timeout passed with nothing ready
    Stopped,  // stop() was called; no handler ran
  };

  // `name` prefixes errors and log lines ("virtio-net", "ttrpc server").
  // Throws vmrt::Error when the epoll set or the eventfd cannot be made.
  explicit EventLoop(std::string name);
  // stop_and_join().
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Watches `fd` (which stays the caller's to close, after remove()) for
  // `events`, level-triggered. Throws vmrt::Error when epoll refuses it or
  // `fd` is watched already.
  void add(int fd, uint32_t events, Handler handler);
  // Changes what `fd` is watched for. Throws vmrt::Error.
  void modify(int fd, uint32_t events);
  // Stops watching `fd`; nothing when it is not watched. Safe from a handler,
  // its own included: an event of `fd` still pending in the batch being
  // dispatched is dropped.
  void remove(int fd) noexcept;
  bool contains(int fd) const noexcept { return ids_.count(fd) != 0; }

  // Waits once (timeout_ms as for epoll_wait; a signal restarts the wait
  // with the whole timeout) and runs the handlers of what fired. Throws
  // vmrt::Error when epoll_wait fails, and passes on what a handler throws.
  Wake run_once(int timeout_ms = -1);
  // `before_wait`, then run_once(its timeout), until stopped. Without
  // `before_wait` every wait blocks.
  void run(BeforeWait before_wait = {});
  // run() on a thread the loop owns. An error that ends run() there (from
  // epoll or a handler) is logged as "<name>: <error>", and the thread ends.
  void start(BeforeWait before_wait = {});

  // Ends run() and run_once() on whichever thread: after the handler running
  // now, before any other. Once stopped a loop stays stopped. Thread-safe.
  void stop() noexcept;
  bool stop_requested() const noexcept;
  // stop(), then joins the thread start() made. Call it from the owner's
  // destructor first when handlers use members declared after the loop.
  void stop_and_join() noexcept;

 private:
  struct Entry {
    int fd;
    std::shared_ptr<Handler> handler;  // shared so a handler may remove itself
  };

  const std::string name_;
  UniqueFd epoll_;
  UniqueFd stop_;
  std::atomic<bool> stopping_{false};
  // Registrations by id, the id travelling in epoll_event.data: an fd
  // removed and added again mid-batch does not get its predecessor's events.
  std::unordered_map<uint64_t, Entry> entries_;
  std::unordered_map<int, uint64_t> ids_;
  uint64_t next_id_ = 1;  // 0 is the stop eventfd
  std::thread thread_;
};

}  // namespace vmrt
