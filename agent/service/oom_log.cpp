#include "agent/service/oom_log.h"

namespace vmrt::agent {

void OomLog::publish(const std::string& container_id) {
  std::lock_guard lock(mu_);
  kept_.push_back(container_id);
  if (kept_.size() > kKept) kept_.pop_front();
  ++newest_;
  cv_.notify_all();
}

OomLog::Read OomLog::read_after(uint64_t after, std::chrono::steady_clock::time_point until,
                                std::stop_token stop) {
  std::unique_lock lock(mu_);
  cv_.wait_until(lock, stop, until, [&] { return closed_ || newest_ > after; });
  Read r;
  r.closed = closed_;
  r.last = newest_;
  if (newest_ <= after) return r;
  uint64_t first_kept = newest_ - kept_.size() + 1;
  for (uint64_t n = std::max(after + 1, first_kept); n <= newest_; ++n)
    r.container_ids.push_back(kept_[n - first_kept]);
  return r;
}

void OomLog::close() {
  std::lock_guard lock(mu_);
  closed_ = true;
  cv_.notify_all();
}

void OomLog::reopen() {
  std::lock_guard lock(mu_);
  closed_ = false;
}

}  // namespace vmrt::agent
