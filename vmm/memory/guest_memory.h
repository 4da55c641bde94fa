#pragma once
// Guest RAM: one memfd (so devices and later vhost-user peers can map the same
// pages) mapped once into the VMM. RAM above 3 GiB continues at 4 GiB so that
// the 32-bit MMIO hole (virtio-mmio slots, IOAPIC, LAPIC) stays free.
//
// Every access through this class is bounds-checked against the RAM regions
// and the plugged blocks of the hotplug region (hotplug_region.h), if any:
// guest-supplied addresses and lengths are untrusted.

#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <type_traits>
#include <vector>

#include "common/fd.h"
#include "vmm/memory/hotplug_region.h"

namespace vmrt::vmm {

// One contiguous range of guest-physical RAM and where it lives in the memfd.
struct RamRegion {
  uint64_t gpa;
  uint64_t size;
  uint64_t offset;  // into the memfd and the host mapping
};

class GuestMemory {
 public:
  static constexpr uint64_t kMmioHoleStart = 0xC000'0000;  // 3 GiB
  static constexpr uint64_t kMmioHoleEnd = 0x1'0000'0000;  // 4 GiB

  // Creates `size` bytes of RAM (a multiple of 4 KiB, at least 1 MiB).
  // With `hugepages`, the memfd is backed by 2 MiB huge pages and `size` must
  // be a multiple of 2 MiB.
  static GuestMemory create(uint64_t size, bool hugepages = false);
  // Maps RAM another process created (its fd()), laid out the same way: for
  // a device served in a process of its own (the virtio-fs file server).
  // Throws vmrt::Error for an fd that is not such RAM: not a memory file,
  // a size outside the limits, or a size that is not sealed against
  // shrinking (create() seals it).
  static GuestMemory adopt(UniqueFd fd);
  // Maps a snapshot's memory file (`size` bytes, the RAM size the snapshot
  // recorded) MAP_PRIVATE, laid out as create(size): pages are read from the
  // file on first touch and copied on first write, so every VM restored from
  // one file shares the pages none of them changed, and restoring copies
  // nothing. The file must not change while mapped (the owner of snapshots
  // keeps it immutable); huge pages are not supported here. Throws
  // vmrt::Error when the file is not a regular file of exactly `size` bytes.
  static GuestMemory map_private(UniqueFd file, uint64_t size);
  // The same file copied into new RAM (create(size)): no page is shared
  // with another VM restored from it, so no tenant can time another's
  // accesses to a shared page, nor the page's being copied on write. Costs
  // a copy of the file's data per VM. The file's holes stay unallocated.
  static GuestMemory copy_of(UniqueFd file, uint64_t size);

  GuestMemory(GuestMemory&& other) noexcept;
  GuestMemory& operator=(GuestMemory&& other) noexcept;
  GuestMemory(const GuestMemory&) = delete;
  GuestMemory& operator=(const GuestMemory&) = delete;
  ~GuestMemory();

  uint64_t size() const noexcept { return size_; }
  // The memfd, or for map_private() the memory file.
  int fd() const noexcept { return fd_.get(); }
  // False for map_private() memory: another process mapping fd() would see
  // the file, not this VM's writes, so devices in other processes cannot
  // share this RAM through the fd.
  bool shareable() const noexcept { return shareable_; }
  // The boot RAM (what the e820 map, snapshots and the file server see);
  // the hotplug region is not part of it.
  const std::vector<RamRegion>& regions() const noexcept { return regions_; }
  uint8_t* host_base() const noexcept { return base_; }

  // Adds a virtio-mem hotplug region of `size` bytes (HotplugRegion's
  // checks) at hotplug_base(). At most one; throws vmrt::Error.
  void add_hotplug(uint64_t size);
  // Where a hotplug region starts: the first GiB boundary above RAM and the
  // 32-bit MMIO hole, so that it never overlaps either.
  uint64_t hotplug_base() const noexcept;
  // The hotplug region, or null.
  HotplugRegion* hotplug() const noexcept { return hotplug_.get(); }

  // Host pointer for [gpa, gpa + len), or nullptr when any part of it is not
  // RAM or a plugged hotplug block, or the range wraps. A range never spans
  // two regions.
  uint8_t* host_ptr(uint64_t gpa, uint64_t len) const noexcept;
  bool contains(uint64_t gpa, uint64_t len) const noexcept { return host_ptr(gpa, len) != nullptr; }

  // As host_ptr, but throws vmrt::Error naming the range.
  std::span<uint8_t> slice(uint64_t gpa, uint64_t len) const;

  void write(uint64_t gpa, std::span<const uint8_t> data) const;
  void read(uint64_t gpa, std::span<uint8_t> out) const;
  void fill(uint64_t gpa, uint64_t len, uint8_t value) const;

  template <typename T>
  void write_obj(uint64_t gpa, const T& value) const {
    static_assert(std::is_trivially_copyable_v<T>);
    write(gpa, {reinterpret_cast<const uint8_t*>(&value), sizeof(T)});
  }
  template <typename T>
  T read_obj(uint64_t gpa) const {
    static_assert(std::is_trivially_copyable_v<T>);
    T value;
    read(gpa, {reinterpret_cast<uint8_t*>(&value), sizeof(T)});
    return value;
  }

 private:
  GuestMemory() = default;
  static GuestMemory map(UniqueFd fd, uint64_t size, bool shared = true);

  UniqueFd fd_;
  uint8_t* base_ = nullptr;
  uint64_t size_ = 0;
  uint64_t mapped_ = 0;
  bool shareable_ = true;
  std::vector<RamRegion> regions_;
  std::unique_ptr<HotplugRegion> hotplug_;
};

}  // namespace vmrt::vmm
