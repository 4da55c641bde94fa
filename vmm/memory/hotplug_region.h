#pragma once
// The guest-physical range a virtio-mem device plugs memory into, in blocks
// of kBlockSize. Its pages live in a memfd of the region's size, mapped
// twice into the VMM:
//
//   the guest's view, registered as a KVM memory slot: readable and writable
//     only over plugged blocks. An unplugged block is PROT_NONE, so a guest
//     that touches it makes KVM_RUN fail (EFAULT) instead of allocating a
//     host page: the VM stops, the host grants nothing.
//   the devices' view (GuestMemory::host_ptr): always mapped, but handed out
//     only for plugged blocks. A device thread still holding a buffer when
//     the guest unplugs its block writes into the memfd, never into a
//     PROT_NONE page (which would kill the VMM): that page is freed at the
//     next plug or unplug of its block.
//
// Unplugging frees a block's pages (MADV_REMOVE punches them out of the
// memfd), so unplugged blocks cost the host nothing. The plugged bitmap is
// read by any device thread and changed by the virtio-mem device's.

#include <atomic>
#include <cstdint>
#include <memory>

#include "common/fd.h"

namespace vmrt::vmm {

class HotplugRegion {
 public:
  static constexpr uint64_t kBlockSize = 2 << 20;
  // Linux adds and removes memory in memory blocks of 128 MiB: the region's
  // size and start are multiples of it.
  static constexpr uint64_t kAlignment = 128 << 20;

  // `size` bytes at guest-physical `gpa`, nothing plugged. Throws
  // vmrt::Error for a size or address that is 0 or not a multiple of
  // kAlignment, or memory that cannot be mapped.
  HotplugRegion(uint64_t gpa, uint64_t size);
  ~HotplugRegion();
  HotplugRegion(const HotplugRegion&) = delete;
  HotplugRegion& operator=(const HotplugRegion&) = delete;

  uint64_t gpa() const noexcept { return gpa_; }
  uint64_t size() const noexcept { return size_; }
  uint64_t block_count() const noexcept { return size_ / kBlockSize; }
  // The guest's view, for the KVM memory slot.
  uint8_t* guest_view() const noexcept { return guest_view_; }

  // The devices' host pointer for [gpa, gpa + len) when all of it lies in
  // plugged blocks of the region; nullptr otherwise (also for len 0 past
  // the region).
  uint8_t* host_ptr(uint64_t gpa, uint64_t len) const noexcept;
  bool contains_range(uint64_t gpa, uint64_t len) const noexcept;

  // Blocks [first, first + count) of the region. The caller (the device's
  // request handler) has checked the range; out-of-range throws vmrt::Error.
  bool all_plugged(uint64_t first, uint64_t count) const;
  bool none_plugged(uint64_t first, uint64_t count) const;
  // Maps the blocks for the guest (their old pages freed first, so a plugged
  // block starts zeroed) and marks them plugged.
  void plug(uint64_t first, uint64_t count);
  // Marks the blocks unplugged, takes them from the guest and frees them.
  void unplug(uint64_t first, uint64_t count);
  void unplug_all() { unplug(0, block_count()); }
  uint64_t plugged_blocks() const noexcept { return plugged_.load(std::memory_order_acquire); }
  uint64_t plugged_bytes() const noexcept { return plugged_blocks() * kBlockSize; }

 private:
  bool test(uint64_t block) const noexcept;
  void set(uint64_t block, bool plugged) noexcept;
  void check_range(uint64_t first, uint64_t count) const;
  void protect(uint64_t first, uint64_t count, int prot);
  void release(uint64_t first, uint64_t count);

  uint64_t gpa_;
  uint64_t size_;
  UniqueFd fd_;
  uint8_t* guest_view_ = nullptr;
  uint8_t* device_view_ = nullptr;
  std::unique_ptr<std::atomic<uint64_t>[]> bits_;
  std::atomic<uint64_t> plugged_{0};
};

}  // namespace vmrt::vmm
