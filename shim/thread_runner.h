#pragma once
// Runs functions on one long-lived thread. The VMM is started with a
// parent-death signal, which Linux sends when the *thread* that forked it
// ends: started from a ttrpc handler's short-lived thread, the VM would be
// killed as soon as that call returned.

#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <thread>

namespace vmrt::shim {

class ThreadRunner {
 public:
  ThreadRunner();
  ~ThreadRunner();  // finishes what is queued, then joins
  ThreadRunner(const ThreadRunner&) = delete;
  ThreadRunner& operator=(const ThreadRunner&) = delete;

  // Runs `fn` on the thread and returns its result; rethrows what it threw.
  template <typename Fn>
  auto run(Fn fn) -> decltype(fn()) {
    std::packaged_task<decltype(fn())()> task(std::move(fn));
    auto result = task.get_future();
    post([&task] { task(); });
    return result.get();
  }

 private:
  void post(std::function<void()> job);

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace vmrt::shim
