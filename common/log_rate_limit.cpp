#include "common/log_rate_limit.h"

#include <algorithm>

namespace vmrt {

LogRateLimit::LogRateLimit(unsigned burst, std::chrono::steady_clock::duration refill, Clock clock)
    : burst_(std::max(1u, burst)),
      refill_(std::max<std::chrono::steady_clock::duration>(refill, std::chrono::nanoseconds(1))),
      clock_(std::move(clock)),
      tokens_(burst_),
      last_refill_(now()) {}

std::chrono::steady_clock::time_point LogRateLimit::now() const {
  return clock_ ? clock_() : std::chrono::steady_clock::now();
}

bool LogRateLimit::admit(uint64_t& suppressed) {
  std::lock_guard lock(mu_);
  auto t = now();
  if (t > last_refill_) {
    // Whole refill periods only; the remainder counts towards the next.
    auto periods = (t - last_refill_) / refill_;
    if (periods > 0) {
      tokens_ =
          static_cast<unsigned>(std::min<int64_t>(burst_, static_cast<int64_t>(tokens_) + periods));
      last_refill_ = tokens_ == burst_ ? t : last_refill_ + periods * refill_;
    }
  }
  if (tokens_ == 0) {
    ++suppressed_;
    ++total_suppressed_;
    return false;
  }
  --tokens_;
  suppressed = std::exchange(suppressed_, 0);
  return true;
}

uint64_t LogRateLimit::total_suppressed() const {
  std::lock_guard lock(mu_);
  return total_suppressed_;
}

}  // namespace vmrt
