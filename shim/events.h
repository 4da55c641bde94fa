#pragma once
// Task events to containerd: each is wrapped in an Envelope (topic,
// namespace, time) and forwarded over ttrpc to
// containerd.services.events.ttrpc.v1.Events/Forward at TTRPC_ADDRESS. A
// thread of its own sends them in order, reconnecting and retrying a few
// times, so that a slow or restarting containerd never blocks a task call.

#include <google/protobuf/message_lite.h>
#include <google/protobuf/timestamp.pb.h>

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "common/ttrpc/client.h"

namespace vmrt::shim {

// Where task events go: containerd (EventPublisher) or, in unit tests of
// the task state machine, a recorder.
class EventSink {
 public:
  virtual ~EventSink() = default;
  // topic: "/tasks/exit" ...; event: a containerd.events message.
  virtual void publish(const std::string& topic, const google::protobuf::MessageLite& event) = 0;
};

class EventPublisher : public EventSink {
 public:
  // `address`: containerd's ttrpc socket; empty: events are logged only.
  EventPublisher(std::string address, std::string ns);
  // Sends what is queued (at most a few seconds), then stops.
  ~EventPublisher() override;
  EventPublisher(const EventPublisher&) = delete;
  EventPublisher& operator=(const EventPublisher&) = delete;

  void publish(const std::string& topic, const google::protobuf::MessageLite& event) override;

 private:
  struct Queued {
    std::string topic;
    std::string forward_request;  // serialized ForwardRequest
  };
  void run();
  bool send(const Queued& q);

  const std::string address_, ns_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Queued> queue_;
  bool stopping_ = false;
  std::unique_ptr<ttrpc::Client> client_;
  std::thread thread_;
};

// "containerd.events.TaskExit" for a TaskExit: how containerd's typeurl names
// protobuf messages.
std::string type_url_of(const google::protobuf::MessageLite& m);

// The wall clock now, as the events' and exits' times. The lite runtime has
// no TimeUtil.
google::protobuf::Timestamp timestamp_now();

}  // namespace vmrt::shim
