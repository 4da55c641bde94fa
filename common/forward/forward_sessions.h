#pragma once
// The forwarded connections of one relay (the host's or the guest's), each
// on a thread of its own: at most a fixed number at once, so that a peer
// opening connections without end costs a bounded number of threads and
// buffers; all of them stopped and joined when the owner goes.

#include <atomic>
#include <functional>
#include <list>
#include <mutex>
#include <thread>

#include "common/fd.h"

namespace vmrt::forward {

inline constexpr size_t kMaxSessions = 64;

class Sessions {
 public:
  // Gets a descriptor that becomes readable when the session must stop
  // (for splice_streams and any wait before it).
  using Work = std::function<void(int stop_fd)>;

  explicit Sessions(size_t max = kMaxSessions);
  ~Sessions();  // stops every session and joins its thread
  Sessions(const Sessions&) = delete;
  Sessions& operator=(const Sessions&) = delete;

  // Runs `work` on a new thread; false (nothing run) when `max` run already.
  // What `work` throws is logged and ends only its own session.
  bool start(Work work);
  size_t running() const noexcept { return running_.load(); }

 private:
  void reap_finished();  // with mu_ held

  const size_t max_;
  UniqueFd stop_;
  std::mutex mu_;
  struct Session {
    std::thread thread;
    std::atomic<bool> finished{false};
  };
  std::list<Session> sessions_;
  std::atomic<size_t> running_{0};
};

}  // namespace vmrt::forward
