#include "vmm/memory/hotplug_region.h"

#include <sys/mman.h>
#include <unistd.h>

#include "common/error.h"

namespace vmrt::vmm {

namespace {
// Far more than any host here has; stops overflow in the address arithmetic.
constexpr uint64_t kMaxSize = uint64_t{1} << 40;

uint8_t* map_view(int fd, uint64_t size, int prot, const char* what) {
  void* p = mmap(nullptr, size, prot, MAP_SHARED | MAP_NORESERVE, fd, 0);
  if (p == MAP_FAILED) throw_errno(fmt::format("cannot map the hotplug region's {}", what));
  // Guest pages are useless in a VMM core dump and may hold tenant secrets.
  madvise(p, size, MADV_DONTDUMP);
  return static_cast<uint8_t*>(p);
}
}  // namespace

HotplugRegion::HotplugRegion(uint64_t gpa, uint64_t size) : gpa_(gpa), size_(size) {
  if (size == 0 || size % kAlignment)
    fail("a hotplug region of {} MiB is not a positive multiple of {} MiB", size >> 20,
         kAlignment >> 20);
  if (size > kMaxSize) fail("a hotplug region of {} MiB is larger than 1 TiB", size >> 20);
  if (gpa % kAlignment || gpa > kMaxSize * 4) fail("a hotplug region cannot start at {:#x}", gpa);
  fd_ = UniqueFd(check_sys(memfd_create("vmrt-hotplug", MFD_CLOEXEC), "memfd_create hotplug"));
  if (ftruncate(fd_.get(), static_cast<off_t>(size)) < 0)
    throw_errno(fmt::format("cannot size the hotplug region to {} MiB", size >> 20));
  // Nothing is plugged: the guest's view starts inaccessible.
  guest_view_ = map_view(fd_.get(), size, PROT_NONE, "guest view");
  try {
    device_view_ = map_view(fd_.get(), size, PROT_READ | PROT_WRITE, "device view");
  } catch (...) {
    munmap(guest_view_, size_);
    throw;
  }
  size_t words = (block_count() + 63) / 64;
  bits_ = std::make_unique<std::atomic<uint64_t>[]>(words);
  for (size_t i = 0; i < words; ++i) bits_[i].store(0, std::memory_order_relaxed);
}

HotplugRegion::~HotplugRegion() {
  munmap(guest_view_, size_);
  munmap(device_view_, size_);
}

bool HotplugRegion::test(uint64_t block) const noexcept {
  return bits_[block / 64].load(std::memory_order_acquire) & (uint64_t{1} << (block % 64));
}

void HotplugRegion::set(uint64_t block, bool plugged) noexcept {
  uint64_t mask = uint64_t{1} << (block % 64);
  if (plugged)
    bits_[block / 64].fetch_or(mask, std::memory_order_acq_rel);
  else
    bits_[block / 64].fetch_and(~mask, std::memory_order_acq_rel);
}

bool HotplugRegion::contains_range(uint64_t gpa, uint64_t len) const noexcept {
  if (gpa < gpa_) return false;
  uint64_t off = gpa - gpa_;
  // Written so that no sum can overflow: off <= size, len <= size - off.
  return off <= size_ && len <= size_ - off;
}

uint8_t* HotplugRegion::host_ptr(uint64_t gpa, uint64_t len) const noexcept {
  if (!contains_range(gpa, len)) return nullptr;
  uint64_t off = gpa - gpa_;
  if (len == 0) return off < size_ && test(off / kBlockSize) ? device_view_ + off : nullptr;
  for (uint64_t b = off / kBlockSize; b <= (off + len - 1) / kBlockSize; ++b)
    if (!test(b)) return nullptr;
  return device_view_ + off;
}

void HotplugRegion::check_range(uint64_t first, uint64_t count) const {
  if (first > block_count() || count > block_count() - first)
    fail("blocks {}+{} are outside the hotplug region's {} blocks", first, count, block_count());
}

bool HotplugRegion::all_plugged(uint64_t first, uint64_t count) const {
  check_range(first, count);
  for (uint64_t b = first; b < first + count; ++b)
    if (!test(b)) return false;
  return true;
}

bool HotplugRegion::none_plugged(uint64_t first, uint64_t count) const {
  check_range(first, count);
  for (uint64_t b = first; b < first + count; ++b)
    if (test(b)) return false;
  return true;
}

void HotplugRegion::protect(uint64_t first, uint64_t count, int prot) {
  if (mprotect(guest_view_ + first * kBlockSize, count * kBlockSize, prot) != 0)
    throw_errno(
        fmt::format("cannot change the guest's access to hotplug blocks {}+{}", first, count));
}

// Punches the blocks' pages out of the memfd: both views then read zeros
// and the host has the memory back.
void HotplugRegion::release(uint64_t first, uint64_t count) {
  if (madvise(device_view_ + first * kBlockSize, count * kBlockSize, MADV_REMOVE) != 0)
    throw_errno(fmt::format("cannot free hotplug blocks {}+{}", first, count));
}

void HotplugRegion::plug(uint64_t first, uint64_t count) {
  check_range(first, count);
  if (count == 0) return;
  release(first, count);
  protect(first, count, PROT_READ | PROT_WRITE);
  for (uint64_t b = first; b < first + count; ++b)
    if (!test(b)) {
      set(b, true);
      plugged_.fetch_add(1, std::memory_order_acq_rel);
    }
}

void HotplugRegion::unplug(uint64_t first, uint64_t count) {
  check_range(first, count);
  if (count == 0) return;
  // Devices stop being handed the blocks first, then the guest loses them.
  for (uint64_t b = first; b < first + count; ++b)
    if (test(b)) {
      set(b, false);
      plugged_.fetch_sub(1, std::memory_order_acq_rel);
    }
  protect(first, count, PROT_NONE);
  release(first, count);
}

}  // namespace vmrt::vmm
