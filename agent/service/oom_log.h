#pragma once
// The OOM kills the agent has seen, numbered from 1, for OomEvents calls to
// read after the last one they have. Callers poll (ttrpc has no streams):
// the log keeps the latest kKept so that a caller between two calls misses
// nothing unless that many came in between.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <stop_token>
#include <string>
#include <vector>

namespace vmrt::agent {

class OomLog {
 public:
  static constexpr size_t kKept = 256;

  struct Read {
    std::vector<std::string> container_ids;  // kills numbered after `after`, oldest first
    uint64_t last = 0;                       // number of the last of them, or the newest number
    bool closed = false;
  };

  void publish(const std::string& container_id);
  // The kills after `after`, waiting until `until` (or a stop request) for
  // one when there are none yet.
  Read read_after(uint64_t after, std::chrono::steady_clock::time_point until,
                  std::stop_token stop);
  // No more kills (DestroySandbox): wakes and answers every reader closed.
  void close();
  // A new sandbox: readers wait again (the numbers go on).
  void reopen();

 private:
  std::mutex mu_;
  std::condition_variable_any cv_;
  std::deque<std::string> kept_;  // numbered newest_ - kept_.size() + 1 .. newest_
  uint64_t newest_ = 0;
  bool closed_ = false;
};

}  // namespace vmrt::agent
