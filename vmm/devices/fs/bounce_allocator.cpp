#include "vmm/devices/fs/bounce_allocator.h"

#include "common/error.h"

namespace vmrt::vmm::fs {

BounceAllocator::BounceAllocator(uint64_t base, uint64_t size) : size_(size), free_bytes_(size) {
  if (base % kPage || size % kPage || size == 0)
    fail("bounce range {:#x}+{:#x} is not whole pages", base, size);
  free_.emplace(base, size);
}

std::optional<uint64_t> BounceAllocator::allocate(uint64_t bytes) {
  uint64_t want = rounded(bytes);
  for (auto it = free_.begin(); it != free_.end(); ++it) {
    if (it->second < want) continue;
    uint64_t addr = it->first;
    uint64_t left = it->second - want;
    free_.erase(it);
    if (left) free_.emplace(addr + want, left);
    free_bytes_ -= want;
    return addr;
  }
  return std::nullopt;
}

void BounceAllocator::release(uint64_t addr, uint64_t bytes) {
  uint64_t len = rounded(bytes);
  auto next = free_.lower_bound(addr);
  // Merged with the free ranges it touches, so that a large request finds
  // room again once the small ones around it are answered.
  if (next != free_.end() && addr + len == next->first) {
    len += next->second;
    next = free_.erase(next);
  }
  if (next != free_.begin()) {
    auto prev = std::prev(next);
    if (prev->first + prev->second == addr) {
      prev->second += len;
      free_bytes_ += rounded(bytes);
      return;
    }
  }
  free_.emplace(addr, len);
  free_bytes_ += rounded(bytes);
}

}  // namespace vmrt::vmm::fs
