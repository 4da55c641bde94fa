#pragma once
// A token bucket for log lines that a guest (or any other untrusted peer)
// can cause at will: a malformed packet, a bad register write. Without a
// bound, a guest that repeats the fault fills the host's log file, and the
// disk under it. Up to `burst` lines pass at once, then one per `refill`;
// the first line let through after some were refused says how many were.
//
// Thread-safe. The clock is injectable so tests need not wait.

#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <utility>

namespace vmrt {

class LogRateLimit {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;

  explicit LogRateLimit(unsigned burst = 10,
                        std::chrono::steady_clock::duration refill = std::chrono::seconds(1),
                        Clock clock = {});

  // Whether one more line may be logged now. When it may, `suppressed` gets
  // the number of lines refused since the last one let through.
  bool admit(uint64_t& suppressed);
  // Lines refused so far, in all.
  uint64_t total_suppressed() const;

  // A line at `level` through the bucket, after a summary of what was
  // dropped before it.
  template <typename... Args>
  void log(spdlog::level::level_enum level, spdlog::format_string_t<Args...> fmt, Args&&... args) {
    uint64_t suppressed = 0;
    if (!admit(suppressed)) return;
    if (suppressed) spdlog::log(level, "({} similar messages suppressed)", suppressed);
    spdlog::log(level, fmt, std::forward<Args>(args)...);
  }
  template <typename... Args>
  void warn(spdlog::format_string_t<Args...> fmt, Args&&... args) {
    log(spdlog::level::warn, fmt, std::forward<Args>(args)...);
  }
  template <typename... Args>
  void error(spdlog::format_string_t<Args...> fmt, Args&&... args) {
    log(spdlog::level::err, fmt, std::forward<Args>(args)...);
  }

 private:
  std::chrono::steady_clock::time_point now() const;

  const unsigned burst_;
  const std::chrono::steady_clock::duration refill_;
  const Clock clock_;
  mutable std::mutex mu_;
  unsigned tokens_;
  std::chrono::steady_clock::time_point last_refill_;
  uint64_t suppressed_ = 0;  // since the last line let through
  uint64_t total_suppressed_ = 0;
};

}  // namespace vmrt
