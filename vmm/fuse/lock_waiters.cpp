#include "vmm/fuse/lock_waiters.h"

#include <linux/fuse.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <utility>
#include <vector>

namespace vmrt::fuse {

int LockWaiters::park(LockWait wait) {
  std::lock_guard lock(mu_);
  if (std::ranges::find(early_interrupts_, wait.unique) != early_interrupts_.end()) return EINTR;
  if (stopped_ || waits_.size() >= max_) return EDEADLK;
  // The thread first: if it cannot start, nothing is parked (the caller
  // answers the request itself).
  if (!thread_.joinable()) thread_ = std::thread([this] { run(); });
  waits_.push_back(std::move(wait));
  // Tried again at once: the holder may have unlocked between the caller's
  // attempt and now, when there was no wait yet for retry() to wake.
  kicked_ = true;
  cv_.notify_one();
  return 0;
}

void LockWaiters::retry() {
  std::lock_guard lock(mu_);
  if (waits_.empty()) return;
  kicked_ = true;
  cv_.notify_one();
}

template <typename Pred>
std::deque<LockWait> LockWaiters::take_if(Pred&& pred) {
  std::deque<LockWait> taken, kept;
  for (auto& w : waits_) (pred(w) ? taken : kept).push_back(std::move(w));
  waits_ = std::move(kept);
  return taken;
}

bool LockWaiters::interrupt(uint64_t unique) {
  std::deque<LockWait> taken;
  {
    std::lock_guard lock(mu_);
    taken = take_if([&](const LockWait& w) { return w.unique == unique; });
    if (taken.empty()) {
      // FUSE request ids only grow within a session: a remembered id never
      // names a later request by mistake.
      early_interrupts_[next_early_++ % early_interrupts_.size()] = unique;
      return false;
    }
  }
  answer_all(taken, EINTR);
  return true;
}

void LockWaiters::cancel(uint64_t nodeid, uint64_t owner) {
  std::deque<LockWait> taken;
  {
    std::lock_guard lock(mu_);
    taken = take_if([&](const LockWait& w) { return w.nodeid == nodeid && w.owner == owner; });
  }
  answer_all(taken, EINTR);
}

void LockWaiters::cancel_all() {
  std::deque<LockWait> taken;
  {
    std::lock_guard lock(mu_);
    taken.swap(waits_);
    early_interrupts_.fill(0);
  }
  answer_all(taken, EINTR);
}

void LockWaiters::stop() {
  {
    std::lock_guard lock(mu_);
    stopped_ = true;
    cv_.notify_one();
  }
  if (thread_.joinable()) thread_.join();
  cancel_all();
}

size_t LockWaiters::size() const {
  std::lock_guard lock(mu_);
  return waits_.size();
}

void LockWaiters::answer(LockWait& wait, int err) {
  fuse_out_header h{};
  h.len = sizeof h;
  h.error = -err;
  h.unique = wait.unique;
  try {
    wait.reply(std::as_bytes(std::span(&h, 1)));
  } catch (const std::exception& e) {
    SPDLOG_ERROR("fuse: the reply to SETLKW {} failed: {}", wait.unique, e.what());
  }
}

void LockWaiters::answer_all(std::deque<LockWait>& waits, int err) {
  for (auto& w : waits) answer(w, err);
}

void LockWaiters::run() {
  constexpr auto kFirstDelay = std::chrono::milliseconds(1);
  auto delay = kFirstDelay;
  std::unique_lock lock(mu_);
  while (!stopped_) {
    if (waits_.empty()) {
      cv_.wait(lock, [&] { return stopped_ || !waits_.empty(); });
      continue;
    }
    if (cv_.wait_for(lock, delay, [&] { return stopped_ || kicked_; })) {
      delay = kFirstDelay;
    } else {
      delay = std::min<std::chrono::milliseconds>(delay * 2, kMaxRetryDelay);
    }
    if (stopped_) break;
    kicked_ = false;
    // F_OFD_SETLK never blocks, so the mutex is held only for the attempts;
    // the replies go out after it is released.
    std::vector<std::pair<LockWait, int>> done;
    for (auto it = waits_.begin(); it != waits_.end();) {
      int err = fcntl(it->fd->get(), F_OFD_SETLK, &it->lock) == 0 ? 0 : errno;
      if (err == EAGAIN || err == EACCES) {
        ++it;
        continue;
      }
      done.emplace_back(std::move(*it), err);
      it = waits_.erase(it);
    }
    if (done.empty()) continue;
    lock.unlock();
    for (auto& [w, err] : done) answer(w, err);
    lock.lock();
  }
}

}  // namespace vmrt::fuse
