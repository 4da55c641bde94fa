#include "vmm/devices/fs/shadow_queue.h"

#include <atomic>

#include "vmm/virtio/virtio_ring_abi.h"

namespace vmrt::vmm::fs {

static_assert(ShadowQueue::avail_ring(0) + 6 + 2ull * ShadowQueue::kSize <=
              ShadowQueue::used_ring(0));
static_assert(ShadowQueue::used_ring(0) + 6 + sizeof(vring_used_elem) * ShadowQueue::kSize <=
              ShadowQueue::kRingBytes);
static_assert(ShadowQueue::kDataStart % 4096 == 0);

namespace {
// The server reads and writes these while the relay does: single aligned
// accesses, ordered by the fences around them.
uint16_t load16(const uint8_t* p) {
  return __atomic_load_n(reinterpret_cast<const uint16_t*>(p), __ATOMIC_RELAXED);
}
void store16(uint8_t* p, uint16_t v) {
  __atomic_store_n(reinterpret_cast<uint16_t*>(p), v, __ATOMIC_RELAXED);
}
}  // namespace

ShadowQueue::ShadowQueue(const GuestMemory& bounce, size_t queue)
    : mem_(bounce), queue_(queue), out_len_(kSlots), busy_(kSlots) {
  mem_.fill(desc_table(queue), kRingBytes, 0);
  // Popped from the back: slot 0 goes first.
  for (int s = kSlots - 1; s >= 0; --s) free_.push_back(static_cast<uint16_t>(s));
}

uint16_t ShadowQueue::acquire() {
  uint16_t slot = free_.back();
  free_.pop_back();
  busy_[slot] = true;
  return slot;
}

void ShadowQueue::publish(uint16_t slot, uint64_t in, uint32_t in_len, uint64_t out,
                          uint32_t out_len) {
  uint16_t first = static_cast<uint16_t>(2 * slot);
  // The readable descriptor is there even when empty: a chain needs a head.
  vring_desc d{in, in_len, static_cast<uint16_t>(out_len ? VRING_DESC_F_NEXT : 0),
               static_cast<uint16_t>(first + 1)};
  mem_.write_obj(desc_table(queue_) + 16ull * first, d);
  if (out_len) {
    vring_desc w{out, out_len, VRING_DESC_F_WRITE, 0};
    mem_.write_obj(desc_table(queue_) + 16ull * (first + 1), w);
  }
  out_len_[slot] = out_len;
  mem_.write_obj<uint16_t>(avail_ring(queue_) + 4 + 2ull * (avail_idx_ % kSize), first);
  ++avail_idx_;
  // Descriptors and ring entry before the index that publishes them.
  std::atomic_thread_fence(std::memory_order_release);
  store16(mem_.host_ptr(avail_ring(queue_) + 2, 2), avail_idx_);
}

std::vector<virtio::UsedElem> ShadowQueue::take_used() {
  uint16_t idx = load16(mem_.host_ptr(used_ring(queue_) + 2, 2));
  // The entries written before the index must be read after it.
  std::atomic_thread_fence(std::memory_order_acquire);
  uint16_t in_flight = static_cast<uint16_t>(kSlots - free_.size());
  if (static_cast<uint16_t>(idx - used_seen_) > in_flight)
    throw virtio::QueueError(fmt::format("the file server used {} entries with {} in flight",
                                         static_cast<uint16_t>(idx - used_seen_), in_flight));
  std::vector<virtio::UsedElem> out;
  for (; used_seen_ != idx; ++used_seen_) {
    auto e = mem_.read_obj<vring_used_elem>(used_ring(queue_) + 4 + 8ull * (used_seen_ % kSize));
    uint32_t slot = e.id / 2;
    if (e.id % 2 || slot >= kSlots || !busy_[slot])
      throw virtio::QueueError(
          fmt::format("the file server used descriptor {}, not in flight", e.id));
    if (e.len > out_len_[slot])
      throw virtio::QueueError(
          fmt::format("the file server wrote {} bytes into a buffer of {}", e.len, out_len_[slot]));
    busy_[slot] = false;
    free_.push_back(static_cast<uint16_t>(slot));
    out.push_back({static_cast<uint16_t>(slot), e.len});
  }
  return out;
}

}  // namespace vmrt::vmm::fs
