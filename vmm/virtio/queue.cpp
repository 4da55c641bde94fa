#include "vmm/virtio/queue.h"

#include <atomic>
#include <cstring>

#include "vmm/virtio/virtio_ring_abi.h"

namespace vmrt::vmm::virtio {

namespace {

// Split ring layout (virtio 1.x, 2.7): offsets within each ring.
constexpr uint64_t kDescSize = sizeof(vring_desc);  // 16
constexpr uint64_t kAvailRing = 4;                  // after flags, idx
constexpr uint64_t kUsedRing = 4;
constexpr uint64_t kUsedElemSize = sizeof(vring_used_elem);  // 8

uint64_t desc_table_bytes(uint16_t size) { return kDescSize * size; }
// flags, idx, ring[size], used_event
uint64_t avail_ring_bytes(uint16_t size) { return 6 + 2ull * size; }
// flags, idx, ring[size], avail_event
uint64_t used_ring_bytes(uint16_t size) { return 6 + kUsedElemSize * size; }

// The driver writes these concurrently: read and write them as single
// aligned accesses, never through a cached copy.
uint16_t load16(const uint8_t* p) {
  return __atomic_load_n(reinterpret_cast<const uint16_t*>(p), __ATOMIC_RELAXED);
}
void store16(uint8_t* p, uint16_t v) {
  __atomic_store_n(reinterpret_cast<uint16_t*>(p), v, __ATOMIC_RELAXED);
}

}  // namespace

void Queue::reset() noexcept {
  size_ = max_size_;
  ready_ = false;
  desc_table_ = avail_ring_ = used_ring_ = 0;
  desc_host_ = avail_host_ = used_host_ = nullptr;
  event_idx_ = indirect_ = false;
  mem_ = nullptr;
  next_avail_ = next_used_ = signalled_used_ = 0;
  signalled_valid_ = false;
}

void Queue::activate(const GuestMemory& mem, const QueuePositions& at) {
  if (size_ == 0 || size_ > max_size_ || (size_ & (size_ - 1)) != 0)
    throw QueueError(fmt::format("queue size {} is not a power of two in 1..{}", size_, max_size_));
  auto check = [&](const char* what, uint64_t gpa, uint64_t len, uint64_t align) {
    if (gpa % align != 0)
      throw QueueError(fmt::format("{} at {:#x} is not {}-byte aligned", what, gpa, align));
    uint8_t* host = mem.host_ptr(gpa, len);
    if (!host)
      throw QueueError(fmt::format("{} at {:#x} (+{:#x}) is outside guest RAM", what, gpa, len));
    return host;
  };
  uint8_t* desc = check("descriptor table", desc_table_, desc_table_bytes(size_), 16);
  uint8_t* avail = check("available ring", avail_ring_, avail_ring_bytes(size_), 2);
  uint8_t* used = check("used ring", used_ring_, used_ring_bytes(size_), 4);
  if (static_cast<uint16_t>(at.next_avail - at.next_used) > size_)
    throw QueueError(fmt::format(
        "{} chains in flight (next avail {}, next used {}) in a queue of {}",
        static_cast<uint16_t>(at.next_avail - at.next_used), at.next_avail, at.next_used, size_));
  mem_ = &mem;
  desc_host_ = desc;
  avail_host_ = avail;
  used_host_ = used;
  next_avail_ = at.next_avail;
  next_used_ = at.next_used;
  signalled_used_ = at.signalled_used;
  signalled_valid_ = at.signalled_valid;
}

uint16_t Queue::avail_idx() const {
  uint16_t idx = load16(avail_host_ + 2);
  // Ring entries and descriptors written before idx must be seen after it.
  std::atomic_thread_fence(std::memory_order_acquire);
  return idx;
}

uint16_t Queue::ring_used_idx() const {
  std::atomic_thread_fence(std::memory_order_acquire);
  return load16(used_host_ + 2);
}

bool Queue::has_available() {
  if (!mem_) return false;
  uint16_t pending = static_cast<uint16_t>(avail_idx() - next_avail_);
  if (pending > size_)
    throw QueueError(
        fmt::format("driver claims {} available buffers in a queue of {}", pending, size_));
  return pending != 0;
}

std::optional<DescriptorChain> Queue::pop() {
  if (!has_available()) return std::nullopt;
  uint16_t head = load16(avail_host_ + kAvailRing + 2ull * (next_avail_ % size_));
  DescriptorChain chain;
  chain.head = head;
  walk(head, chain);
  ++next_avail_;
  return chain;
}

// Follows one chain, through at most one indirect table. The walk is bounded
// by the number of descriptors in the table it is in, so a loop in the
// `next` links ends as "chain too long" rather than spinning.
void Queue::walk(uint16_t head, DescriptorChain& chain) const {
  if (head >= size_)
    throw QueueError(fmt::format("chain head {} is past the queue size {}", head, size_));
  const uint8_t* table = desc_host_;
  uint32_t table_len = size_;
  uint32_t index = head;
  uint32_t seen = 0;
  bool in_indirect = false;
  uint64_t readable = 0, writable = 0;
  for (;;) {
    if (index >= table_len)
      throw QueueError(
          fmt::format("descriptor index {} is past its table of {}", index, table_len));
    if (++seen > table_len)
      throw QueueError(
          fmt::format("descriptor chain longer than its table of {} (a loop?)", table_len));
    vring_desc d;
    std::memcpy(&d, table + kDescSize * index, sizeof d);
    if (d.flags & VRING_DESC_F_INDIRECT) {
      if (!indirect_) throw QueueError("indirect descriptor without VIRTIO_RING_F_INDIRECT_DESC");
      if (in_indirect) throw QueueError("indirect descriptor inside an indirect table");
      if (d.flags & VRING_DESC_F_NEXT) throw QueueError("indirect descriptor with NEXT set");
      if (seen != 1) throw QueueError("indirect descriptor in the middle of a chain");
      if (d.len == 0 || d.len % kDescSize != 0)
        throw QueueError(fmt::format("indirect table length {} is not a multiple of 16", d.len));
      // The spec caps the table at the queue size... of 32768 entries; a
      // larger one cannot be a valid chain anyway.
      if (d.len / kDescSize > 32768)
        throw QueueError(fmt::format("indirect table of {} bytes is too large", d.len));
      table = mem_->host_ptr(d.addr, d.len);
      if (!table)
        throw QueueError(
            fmt::format("indirect table at {:#x} (+{:#x}) is outside guest RAM", d.addr, d.len));
      table_len = d.len / kDescSize;
      index = 0;
      seen = 0;
      in_indirect = true;
      continue;
    }
    bool is_writable = d.flags & VRING_DESC_F_WRITE;
    if (d.len > 0) {
      uint8_t* host = mem_->host_ptr(d.addr, d.len);
      if (!host)
        throw QueueError(
            fmt::format("descriptor buffer at {:#x} (+{:#x}) is outside guest RAM", d.addr, d.len));
      if (is_writable) {
        writable += d.len;
        chain.writable.push_back({host, d.len});
      } else {
        if (!chain.writable.empty())
          throw QueueError("device-readable descriptor after a writable one");
        readable += d.len;
        chain.readable.push_back({host, d.len});
      }
      if (readable > UINT32_MAX || writable > UINT32_MAX)
        throw QueueError("descriptor chain longer than 4 GiB");
    }
    if (!(d.flags & VRING_DESC_F_NEXT)) break;
    index = d.next;
  }
  chain.readable_len = static_cast<uint32_t>(readable);
  chain.writable_len = static_cast<uint32_t>(writable);
}

void Queue::add_used(std::span<const UsedElem> elems) {
  for (const UsedElem& u : elems) {
    uint8_t* elem = used_host_ + kUsedRing + kUsedElemSize * (next_used_ % size_);
    vring_used_elem e{u.head, u.len};
    std::memcpy(elem, &e, sizeof e);
    ++next_used_;
  }
  // The elements must be visible before the index that publishes them.
  std::atomic_thread_fence(std::memory_order_release);
  store16(used_host_ + 2, next_used_);
}

bool Queue::needs_interrupt() {
  // The used index store must be visible before the driver's flags are read,
  // or an interrupt the driver asked for could be skipped.
  std::atomic_thread_fence(std::memory_order_seq_cst);
  uint16_t old = signalled_used_;
  bool valid = signalled_valid_;
  signalled_used_ = next_used_;
  signalled_valid_ = true;
  if (!event_idx_) return !(load16(avail_host_) & VRING_AVAIL_F_NO_INTERRUPT);
  if (!valid) return true;
  uint16_t used_event = load16(avail_host_ + kAvailRing + 2ull * size_);
  return vring_need_event(used_event, next_used_, old);
}

bool Queue::enable_notification() {
  if (!mem_) return false;
  if (event_idx_) {
    store16(used_host_ + kUsedRing + kUsedElemSize * size_, next_avail_);
    // Publish avail_event before looking at avail idx again: otherwise a
    // buffer added in between would get neither a notification nor a pop.
    std::atomic_thread_fence(std::memory_order_seq_cst);
  }
  return has_available();
}

}  // namespace vmrt::vmm::virtio
