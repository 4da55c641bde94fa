#pragma once
// The running half of the virtio-mem device: one thread and one event loop
// over the request queue's notification. Each request is answered in place
// (plugging and unplugging are a few system calls), under the device's
// configuration lock, so that the driver reads plugged_size and
// requested_size consistent with every answer it got.

#include <cstdint>
#include <mutex>
#include <optional>

#include "common/event_loop.h"
#include "vmm/devices/mem/counters.h"
#include "vmm/memory/hotplug_region.h"
#include "vmm/virtio/device.h"
#include "vmm/virtio/loop_quiesce.h"

namespace vmrt::vmm::mem {

// What the device's configuration holds beyond the fixed geometry, shared
// by the worker (plugging), the vCPUs (configuration reads) and the control
// socket (resizing). Every field under mu.
struct MemConfigState {
  mutable std::mutex mu;
  uint64_t requested = 0;
  // Moves with every change of requested_size or plugged_size.
  uint32_t generation = 0;
  // The activated driver's interrupt, for configuration changes; null
  // while the driver is not running.
  virtio::Interrupt* interrupt = nullptr;
};

class MemWorker {
 public:
  // One queue in `context`: requests. The region, state and counters
  // outlive the worker.
  MemWorker(virtio::ActivateContext context, HotplugRegion& region, MemConfigState& state,
            MemCounters& counters);
  // Stops the thread; no guest memory is touched afterwards.
  ~MemWorker();

  // For a snapshot: refuses (vmrt::Error, still serving) while memory is
  // plugged, as a snapshot holds only boot RAM; otherwise stops the thread
  // and returns the queue's positions.
  std::vector<virtio::QueuePositions> quiesce() { return quiesce_->stop(); }
  virtio::ActivateContext take_context() &&;

 private:
  // One batch of requests; true when it ran out with requests left.
  bool service();
  void answer(const virtio::DescriptorChain& chain);

  virtio::ActivateContext ctx_;
  HotplugRegion& region_;
  MemConfigState& state_;
  MemCounters& counters_;
  bool needs_reset_ = false;
  std::optional<virtio::LoopQuiesce> quiesce_;

  EventLoop loop_{"virtio-mem"};  // last: its thread uses all of the above
};

}  // namespace vmrt::vmm::mem
