#pragma once
// A simulated virtio driver for unit tests: lays out a split ring in guest
// memory the way a guest kernel would, posts chains (direct or indirect) and
// collects used entries. It also writes raw descriptors, so tests can build
// the malformed rings a hostile guest would.

#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include "vmm/memory/guest_memory.h"
#include "vmm/virtio/queue.h"
#include "vmm/virtio/virtio_ring_abi.h"

namespace vmrt::vmm::test {

struct Buffer {
  uint64_t gpa;
  uint32_t len;
  bool writable = false;
};

struct Used {
  uint32_t id;
  uint32_t len;
};

class VirtioDriver {
 public:
  // Rings at `ring_base` (one page per ring is plenty for the sizes tests
  // use); data buffers are allocated from `data_base` upwards.
  VirtioDriver(const GuestMemory& mem, uint16_t size, uint64_t ring_base = 0x10000,
               uint64_t data_base = 0x100000)
      : mem_(mem),
        size_(size),
        desc_(ring_base),
        avail_(ring_base + 16ull * size),
        used_(align(avail_ + 6 + 2ull * size, 4)),
        data_next_(data_base) {}

  uint16_t size() const { return size_; }
  uint64_t desc_table() const { return desc_; }
  uint64_t avail_ring() const { return avail_; }
  uint64_t used_ring() const { return used_; }

  // Sets up `q` as the transport would after the driver wrote its registers.
  void configure(virtio::Queue& q, bool event_idx = false, bool indirect = true) const {
    q.set_size(size_);
    q.set_desc_table(desc_);
    q.set_avail_ring(avail_);
    q.set_used_ring(used_);
    q.set_features(event_idx, indirect);
    q.set_ready(true);
    q.activate(mem_);
  }

  // Guest memory for a data buffer, filled with `fill`.
  uint64_t alloc(uint32_t len, uint8_t fill = 0) {
    uint64_t gpa = data_next_;
    data_next_ = align(data_next_ + len, 16);
    mem_.fill(gpa, len, fill);
    return gpa;
  }
  uint64_t alloc_bytes(std::span<const uint8_t> bytes) {
    uint64_t gpa = alloc(static_cast<uint32_t>(bytes.size()));
    mem_.write(gpa, bytes);
    return gpa;
  }

  void write_desc(uint64_t table, uint16_t index, uint64_t addr, uint32_t len, uint16_t flags,
                  uint16_t next) const {
    vring_desc d{addr, len, flags, next};
    mem_.write_obj(table + 16ull * index, d);
  }

  // Posts a chain of `bufs` through the next free descriptors; returns the head.
  uint16_t add(const std::vector<Buffer>& bufs) {
    uint16_t head = next_desc_;
    for (size_t i = 0; i < bufs.size(); ++i) {
      uint16_t idx = static_cast<uint16_t>((head + i) % size_);
      uint16_t flags = bufs[i].writable ? VRING_DESC_F_WRITE : 0;
      if (i + 1 < bufs.size()) flags |= VRING_DESC_F_NEXT;
      write_desc(desc_, idx, bufs[i].gpa, bufs[i].len, flags,
                 static_cast<uint16_t>((idx + 1) % size_));
    }
    next_desc_ = static_cast<uint16_t>((head + bufs.size()) % size_);
    publish(head);
    return head;
  }

  // Posts `bufs` as one indirect table that the next free descriptor points to.
  uint16_t add_indirect(const std::vector<Buffer>& bufs) {
    uint64_t table = alloc(static_cast<uint32_t>(16 * bufs.size()));
    for (size_t i = 0; i < bufs.size(); ++i) {
      uint16_t flags = bufs[i].writable ? VRING_DESC_F_WRITE : 0;
      if (i + 1 < bufs.size()) flags |= VRING_DESC_F_NEXT;
      write_desc(table, static_cast<uint16_t>(i), bufs[i].gpa, bufs[i].len, flags,
                 static_cast<uint16_t>(i + 1));
    }
    uint16_t head = next_desc_;
    write_desc(desc_, head, table, static_cast<uint32_t>(16 * bufs.size()), VRING_DESC_F_INDIRECT,
               0);
    next_desc_ = static_cast<uint16_t>((head + 1) % size_);
    publish(head);
    return head;
  }

  // Makes descriptor `head` available (the ring entry, then the index).
  void publish(uint16_t head) {
    mem_.write_obj<uint16_t>(avail_ + 4 + 2ull * (avail_idx_ % size_), head);
    ++avail_idx_;
    mem_.write_obj<uint16_t>(avail_ + 2, avail_idx_);
  }
  void set_avail_idx(uint16_t idx) {
    avail_idx_ = idx;
    mem_.write_obj<uint16_t>(avail_ + 2, idx);
  }

  // Used entries the device added since the last call.
  std::vector<Used> take_used() {
    std::vector<Used> out;
    uint16_t idx = mem_.read_obj<uint16_t>(used_ + 2);
    for (; used_seen_ != idx; ++used_seen_) {
      auto e = mem_.read_obj<vring_used_elem>(used_ + 4 + 8ull * (used_seen_ % size_));
      out.push_back({e.id, e.len});
    }
    return out;
  }

  void set_no_interrupt(bool on) const {
    mem_.write_obj<uint16_t>(avail_, on ? VRING_AVAIL_F_NO_INTERRUPT : 0);
  }
  // EVENT_IDX: interrupt me when used idx passes `idx`.
  void set_used_event(uint16_t idx) const {
    mem_.write_obj<uint16_t>(avail_ + 4 + 2ull * size_, idx);
  }
  // EVENT_IDX: the device's request for notifications.
  uint16_t avail_event() const { return mem_.read_obj<uint16_t>(used_ + 4 + 8ull * size_); }

  std::vector<uint8_t> read(uint64_t gpa, uint32_t len) const {
    std::vector<uint8_t> out(len);
    mem_.read(gpa, out);
    return out;
  }

 private:
  static uint64_t align(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }

  const GuestMemory& mem_;
  uint16_t size_;
  uint64_t desc_, avail_, used_;
  uint64_t data_next_;
  uint16_t next_desc_ = 0;
  uint16_t avail_idx_ = 0;
  uint16_t used_seen_ = 0;
};

}  // namespace vmrt::vmm::test
