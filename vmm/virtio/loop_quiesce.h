#pragma once
// How a device worker stops for a snapshot. A worker's state (held chains,
// streams) belongs to its event loop's thread, so the check whether it can
// be snapshotted, and the giving back of chains, run there: another thread
// asks through an eventfd and waits for the answer. When the check passes
// the loop stops, so that nothing touches the queues afterwards; when it
// refuses, the loop goes on serving.

#include <condition_variable>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "common/error.h"
#include "common/event_loop.h"
#include "common/fd.h"
#include "vmm/virtio/device.h"
#include "vmm/virtio/queue.h"

namespace vmrt::vmm::virtio {

class LoopQuiesce {
 public:
  // Runs on the loop's thread: gives back what it holds and returns each
  // queue's positions, or throws vmrt::Error to refuse.
  using Job = std::function<std::vector<QueuePositions>()>;

  // Watches its eventfd on `loop`; construct before the loop starts.
  LoopQuiesce(EventLoop& loop, Job job);

  // Runs the job on the loop's thread. On success the loop has stopped
  // (join it next) and the positions are returned; otherwise throws what
  // the job threw, or vmrt::Error when the loop does not answer.
  std::vector<QueuePositions> stop();

 private:
  void on_request();

  EventLoop& loop_;
  Job job_;
  UniqueFd fd_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  std::vector<QueuePositions> result_;
  std::exception_ptr error_;
};

// A device's quiesce() with a worker that has quiesce() and take_context()
// &&: stops it and keeps its context in `parked` for the worker resume()
// makes. Throws vmrt::Error, the worker still serving, when it refuses.
template <typename Worker>
std::vector<QueuePositions> park_worker(std::unique_ptr<Worker>& worker,
                                        std::optional<ActivateContext>& parked, const char* name) {
  if (!worker) fail("{}: not serving; nothing to quiesce", name);
  std::vector<QueuePositions> positions = worker->quiesce();
  parked.emplace(std::move(*worker).take_context());
  worker.reset();
  return positions;
}

}  // namespace vmrt::vmm::virtio
