#include "agent/service/oom_broadcast.h"

#include <chrono>

namespace vmrt::agent {

std::optional<std::string> OomBroadcast::Subscription::next(int timeout_ms) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms),
               [&] { return closed_ || !queue_.empty(); });
  if (queue_.empty()) return std::nullopt;
  std::string id = std::move(queue_.front());
  queue_.pop_front();
  return id;
}

bool OomBroadcast::Subscription::closed() {
  std::lock_guard lock(mu_);
  return closed_ && queue_.empty();
}

std::shared_ptr<OomBroadcast::Subscription> OomBroadcast::subscribe() {
  auto s = std::make_shared<Subscription>();
  std::lock_guard lock(mu_);
  subs_.push_back(s);
  return s;
}

void OomBroadcast::unsubscribe(const std::shared_ptr<Subscription>& s) {
  std::lock_guard lock(mu_);
  subs_.remove(s);
}

void OomBroadcast::publish(const std::string& container_id) {
  std::lock_guard lock(mu_);
  for (auto& s : subs_) {
    std::lock_guard sl(s->mu_);
    s->queue_.push_back(container_id);
    s->cv_.notify_all();
  }
}

void OomBroadcast::close_all() {
  std::lock_guard lock(mu_);
  for (auto& s : subs_) {
    std::lock_guard sl(s->mu_);
    s->closed_ = true;
    s->cv_.notify_all();
  }
  subs_.clear();
}

}  // namespace vmrt::agent
