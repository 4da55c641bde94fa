#include "vmm/devices/fs/activate_command.h"

#include "common/error.h"
#include "vmm/virtio/virtio_ring_abi.h"

namespace vmrt::vmm::fs {

std::vector<virtio::Queue> queues_for(const wire::Command& cmd, size_t bytes, size_t fds,
                                      const GuestMemory& mem) {
  if (bytes != sizeof cmd) fail("a command of {} bytes", bytes);
  if (cmd.op != wire::Op::Activate) fail("not an activation");
  if (cmd.queue_count == 0 || cmd.queue_count > wire::kMaxQueues)
    fail("{} queues: 1 to {} are served", cmd.queue_count, wire::kMaxQueues);
  if (fds != wire::kActivateFixedFds + cmd.queue_count)
    fail("{} descriptors came for {} queues", fds, cmd.queue_count);
  bool event_idx = cmd.features & (1ull << VIRTIO_RING_F_EVENT_IDX);
  bool indirect = cmd.features & (1ull << VIRTIO_RING_F_INDIRECT_DESC);
  std::vector<virtio::Queue> queues;
  for (uint32_t i = 0; i < cmd.queue_count; ++i) {
    const wire::QueueSetup& s = cmd.queues[i];
    if (s.size == 0 || s.size > wire::kMaxQueueSize) fail("queue {} of size {}", i, s.size);
    virtio::Queue q(wire::kMaxQueueSize);
    q.set_size(s.size);
    q.set_desc_table(s.desc_table);
    q.set_avail_ring(s.avail_ring);
    q.set_used_ring(s.used_ring);
    q.set_features(event_idx, indirect);
    q.set_ready(s.ready != 0);
    // Checked again here: the rings this process writes to must be RAM.
    if (q.ready()) q.activate(mem);
    queues.push_back(std::move(q));
  }
  return queues;
}

}  // namespace vmrt::vmm::fs
