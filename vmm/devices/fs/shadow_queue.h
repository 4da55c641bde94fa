#pragma once
// Relay mode (fs_relay.h): the driver's side of one split virtqueue in the
// bounce memory the VMM shares with the file server, which serves it as it
// would serve the guest's queue. Each relayed request is one "slot": two
// descriptors, 2*slot (device-readable, the request) and 2*slot+1
// (device-writable, room for the reply), both contiguous in bounce memory.
//
// The bounce memory's layout (a small guest-RAM-like address space, so that
// the server maps it with GuestMemory::adopt unchanged): the rings of queue
// i at i * kRingBytes, then the data area from kDataStart.
//
// The file server writes the used ring: what it puts there is checked (a
// slot in flight, a length within its buffer) before the relay acts on it.

#include <cstdint>
#include <vector>

#include "vmm/devices/fs/fs_wire.h"
#include "vmm/memory/guest_memory.h"
#include "vmm/virtio/queue.h"

namespace vmrt::vmm::fs {

class ShadowQueue {
 public:
  static constexpr uint16_t kSize = wire::kMaxQueueSize;
  static constexpr uint16_t kSlots = kSize / 2;
  // Descriptor table, available ring and used ring of one queue.
  static constexpr uint64_t kRingBytes = 8192;
  static constexpr uint64_t kDataStart = wire::kMaxQueues * kRingBytes;

  static constexpr uint64_t desc_table(size_t queue) { return queue * kRingBytes; }
  static constexpr uint64_t avail_ring(size_t queue) { return desc_table(queue) + 16ull * kSize; }
  static constexpr uint64_t used_ring(size_t queue) { return avail_ring(queue) + 1024; }

  // The rings of queue `queue` in `bounce`, zeroed: call while the server
  // serves no queue (before the activation that hands it the rings).
  ShadowQueue(const GuestMemory& bounce, size_t queue);

  // Whether kSlots requests are in flight already.
  bool full() const noexcept { return free_.empty(); }
  // A free slot; only when not full().
  uint16_t acquire();
  // Makes `slot`'s chain available: `in_len` request bytes at `in`, room
  // for `out_len` reply bytes at `out` (none when 0).
  void publish(uint16_t slot, uint64_t in, uint32_t in_len, uint64_t out, uint32_t out_len);
  // Slots the server answered since the last call (UsedElem::head is the
  // slot), each released. Throws virtio::QueueError when the server wrote a
  // used entry for no slot in flight or a length past the slot's buffer.
  std::vector<virtio::UsedElem> take_used();

 private:
  const GuestMemory& mem_;
  const size_t queue_;
  uint16_t avail_idx_ = 0;
  uint16_t used_seen_ = 0;
  std::vector<uint32_t> out_len_;  // by slot, while in flight
  std::vector<bool> busy_;
  std::vector<uint16_t> free_;  // slots not in flight
};

}  // namespace vmrt::vmm::fs
