#include "common/forward/forward_sessions.h"

#include <spdlog/spdlog.h>

#include "common/event_fd.h"

namespace vmrt::forward {

Sessions::Sessions(size_t max) : max_(max), stop_(make_eventfd("forward sessions")) {}

Sessions::~Sessions() {
  signal_eventfd(stop_.get());
  std::lock_guard lock(mu_);
  for (Session& s : sessions_) s.thread.join();
}

void Sessions::reap_finished() {
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    if (it->finished.load()) {
      it->thread.join();
      it = sessions_.erase(it);
    } else {
      ++it;
    }
  }
}

bool Sessions::start(Work work) {
  std::lock_guard lock(mu_);
  reap_finished();
  if (sessions_.size() >= max_) return false;
  Session& s = sessions_.emplace_back();
  ++running_;
  s.thread = std::thread([this, &s, work = std::move(work)] {
    try {
      work(stop_.get());
    } catch (const std::exception& e) {
      spdlog::warn("port forward: {}", e.what());
    }
    --running_;
    s.finished = true;
  });
  return true;
}

}  // namespace vmrt::forward
