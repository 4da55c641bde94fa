#include "shim/events.h"

#include <spdlog/spdlog.h>
#include <time.h>

#include "common/error.h"
#include "common/ttrpc/status.h"
#include "github.com/containerd/containerd/api/services/ttrpc/events/v1/events.pb.h"

namespace vmrt::shim {

using namespace std::chrono_literals;

namespace {

constexpr int kAttempts = 5;
constexpr auto kDrainOnExit = 3s;

}  // namespace

std::string type_url_of(const google::protobuf::MessageLite& m) { return m.GetTypeName(); }

google::protobuf::Timestamp timestamp_now() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  google::protobuf::Timestamp t;
  t.set_seconds(ts.tv_sec);
  t.set_nanos(static_cast<int32_t>(ts.tv_nsec));
  return t;
}

EventPublisher::EventPublisher(std::string address, std::string ns)
    : address_(std::move(address)), ns_(std::move(ns)) {
  thread_ = std::thread([this] { run(); });
}

EventPublisher::~EventPublisher() {
  {
    std::unique_lock lock(mu_);
    // Exit and delete events are what containerd waits for: let them out.
    cv_.wait_for(lock, kDrainOnExit, [this] { return queue_.empty(); });
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void EventPublisher::publish(const std::string& topic, const google::protobuf::MessageLite& event) {
  containerd::services::events::ttrpc::v1::ForwardRequest req;
  auto* env = req.mutable_envelope();
  *env->mutable_timestamp() = timestamp_now();
  env->set_namespace_(ns_);
  env->set_topic(topic);
  env->mutable_event()->set_type_url(type_url_of(event));
  env->mutable_event()->set_value(event.SerializeAsString());
  // Lite messages have no text form: the type and size say which event it was.
  spdlog::debug("event {} {} ({} bytes)", topic, env->event().type_url(),
                env->event().value().size());
  if (address_.empty()) return;
  {
    std::lock_guard lock(mu_);
    queue_.push_back({topic, req.SerializeAsString()});
  }
  cv_.notify_all();
}

bool EventPublisher::send(const Queued& q) {
  if (!client_ || !client_->connected()) client_ = ttrpc::Client::connect(address_);
  ttrpc::CallOptions o;
  o.timeout = 5s;
  client_->call("containerd.services.events.ttrpc.v1.Events", "Forward", q.forward_request, o);
  return true;
}

void EventPublisher::run() {
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;
    Queued q = queue_.front();
    lock.unlock();
    for (int attempt = 1; attempt <= kAttempts; ++attempt) {
      try {
        send(q);
        break;
      } catch (const std::exception& e) {
        client_.reset();
        if (attempt == kAttempts) {
          spdlog::error("event {} lost after {} attempts: {}", q.topic, kAttempts, e.what());
          break;
        }
        std::this_thread::sleep_for(attempt * 100ms);
      }
    }
    lock.lock();
    queue_.pop_front();
    cv_.notify_all();
  }
}

}  // namespace vmrt::shim
