#pragma once
// Space in the relay's bounce memory (relay_layout.h): each request relayed
// to the file server holds one range, from when the relay copies it out of
// guest RAM until the server has answered it. Replies come in any order (a
// parked SETLKW answers late, queues run side by side), so this is a
// first-fit free list rather than a ring. Ranges are whole pages: the server
// reads and writes files straight into them.

#include <cstdint>
#include <map>
#include <optional>

namespace vmrt::vmm::fs {

class BounceAllocator {
 public:
  static constexpr uint64_t kPage = 4096;

  // Manages [base, base + size); both are multiples of kPage.
  BounceAllocator(uint64_t base, uint64_t size);

  // The start of a free range of `bytes` rounded up to pages (one page at
  // least), or nullopt when no free range is that large.
  std::optional<uint64_t> allocate(uint64_t bytes);
  // Gives back what allocate(bytes) returned at `addr`.
  void release(uint64_t addr, uint64_t bytes);

  uint64_t free_bytes() const noexcept { return free_bytes_; }
  uint64_t size() const noexcept { return size_; }
  static uint64_t rounded(uint64_t bytes) noexcept {
    return bytes == 0 ? kPage : (bytes + kPage - 1) / kPage * kPage;
  }

 private:
  uint64_t size_;
  uint64_t free_bytes_;
  std::map<uint64_t, uint64_t> free_;  // start -> length, never adjacent
};

}  // namespace vmrt::vmm::fs
