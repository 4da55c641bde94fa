#pragma once
// OOM kill notifications fanned out to every OomEvents call: each call
// subscribes and receives the events published after it subscribed.

#include <condition_variable>
#include <deque>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

namespace vmrt::agent {

class OomBroadcast {
 public:
  class Subscription {
   public:
    // The next container id, waiting at most `timeout_ms`; nullopt on
    // timeout or once the events are closed (see closed()).
    std::optional<std::string> next(int timeout_ms);
    bool closed();

   private:
    friend class OomBroadcast;
    std::mutex mu_;
    std::condition_variable cv_;
    std::deque<std::string> queue_;
    bool closed_ = false;
  };

  std::shared_ptr<Subscription> subscribe();
  void unsubscribe(const std::shared_ptr<Subscription>& s);
  void publish(const std::string& container_id);
  // Ends every current subscription (DestroySandbox).
  void close_all();

 private:
  std::mutex mu_;
  std::list<std::shared_ptr<Subscription>> subs_;
};

}  // namespace vmrt::agent
