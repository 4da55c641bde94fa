#include "vmm/memory/guest_memory.h"

#include <fcntl.h>
#include <linux/memfd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <utility>
#include <vector>

#include "common/error.h"

namespace vmrt::vmm {

namespace {
constexpr uint64_t kPage = 4096;
constexpr uint64_t kHugePage = 2 << 20;
// Far more than any host here has; stops overflow in the layout arithmetic.
constexpr uint64_t kMaxRam = uint64_t{1} << 40;

void check_size(uint64_t size, bool hugepages) {
  if (size < (1 << 20))
    fail("guest memory of {} bytes is too small: at least 1 MiB is needed", size);
  if (size > kMaxRam) fail("guest memory of {} MiB is larger than the supported 1 TiB", size >> 20);
  if (size % kPage) fail("guest memory size {} is not a multiple of 4 KiB", size);
  if (hugepages && size % kHugePage)
    fail("guest memory size {} is not a multiple of 2 MiB, as huge pages need", size);
}

// A snapshot's memory file: a regular file of exactly the RAM size.
void check_memory_file(int fd, uint64_t size) {
  check_size(size, false);
  struct stat st;
  if (fstat(fd, &st) != 0) throw_errno("guest memory file: fstat");
  if (!S_ISREG(st.st_mode)) fail("guest memory file: the descriptor is not a regular file");
  if (static_cast<uint64_t>(st.st_size) != size)
    fail("guest memory file holds {} bytes, but the snapshot's RAM is {} bytes", st.st_size, size);
}

}  // namespace

GuestMemory GuestMemory::create(uint64_t size, bool hugepages) {
  check_size(size, hugepages);
  unsigned flags = MFD_CLOEXEC | MFD_ALLOW_SEALING | (hugepages ? MFD_HUGETLB | MFD_HUGE_2MB : 0);
  UniqueFd fd(check_sys(memfd_create("vmrt-guest-ram", flags), "memfd_create guest RAM"));
  if (ftruncate(fd.get(), static_cast<off_t>(size)) < 0)
    throw_errno(fmt::format("cannot size guest RAM to {} MiB", size >> 20));
  // The size is fixed for good: a process that maps this RAM from the fd
  // (the virtio-fs file server) can rely on every page of it existing, so
  // whoever else holds the fd cannot shrink it under it and have its
  // accesses fault (SIGBUS).
  check_sys(fcntl(fd.get(), F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL),
            "seal the size of guest RAM");
  return map(std::move(fd), size);
}

GuestMemory GuestMemory::adopt(UniqueFd fd) {
  struct stat st;
  if (fstat(fd.get(), &st) != 0) throw_errno("guest RAM: fstat");
  if (!S_ISREG(st.st_mode)) fail("guest RAM: the descriptor is not a memory file");
  int seals = fcntl(fd.get(), F_GET_SEALS);
  if (seals < 0 || !(seals & F_SEAL_SHRINK))
    fail("guest RAM: the memory file's size is not sealed, so it could shrink under the mapping");
  check_size(static_cast<uint64_t>(st.st_size), false);
  return map(std::move(fd), static_cast<uint64_t>(st.st_size));
}

GuestMemory GuestMemory::map_private(UniqueFd file, uint64_t size) {
  check_memory_file(file.get(), size);
  return map(std::move(file), size, /*shared=*/false);
}

namespace {

// A snapshot's memory file is sparse: its holes are guest pages that were
// zero. Only its data is mapped from the file; the holes stay anonymous.
// Mapped from the file, a hole would be filled on first touch: on tmpfs a
// page allocated into the template (growing it for every pod) and charged
// to the VMM's cgroup, and then a second, anonymous copy when the guest
// writes it, which a VM filling its RAM pays twice, past its cgroup's limit.
// Gaps under kMergeGap are mapped from the file too, to keep the number of
// mappings small; past kMaxExtents, the whole file is.
constexpr off_t kMergeGap = 1 << 20;
constexpr size_t kMaxExtents = 8192;

// The [begin, end) page ranges of the file's data, neighbours closer than
// `merge_gap` joined; past kMaxExtents, the whole file.
std::vector<std::pair<off_t, off_t>> data_extents(int fd, uint64_t size, off_t merge_gap) {
  std::vector<std::pair<off_t, off_t>> extents;
  off_t end = static_cast<off_t>(size);
  for (off_t at = 0; at < end;) {
    off_t data = lseek(fd, at, SEEK_DATA);
    if (data < 0) break;  // ENXIO: no data after `at`
    off_t hole = lseek(fd, data, SEEK_HOLE);
    if (hole < 0) hole = end;
    if (!extents.empty() && data - extents.back().second < merge_gap)
      extents.back().second = hole;
    else
      extents.push_back({data, hole});
    at = hole;
  }
  if (extents.size() > kMaxExtents) extents = {{0, end}};
  for (auto& [from, to] : extents) {
    // Page-aligned: SEEK_DATA/SEEK_HOLE answer in whole pages or blocks.
    from &= ~off_t{4095};
    to = std::min<off_t>((to + 4095) & ~off_t{4095}, end);
  }
  return extents;
}

void map_file_data(int fd, uint8_t* base, uint64_t size) {
  for (auto [from, to] : data_extents(fd, size, kMergeGap))
    if (mmap(base + from, static_cast<size_t>(to - from), PROT_READ | PROT_WRITE,
             MAP_PRIVATE | MAP_NORESERVE | MAP_FIXED, fd, from) == MAP_FAILED)
      throw_errno("cannot map guest RAM from the snapshot's memory file");
}

// Reads the file's data into `base`; its holes stay untouched (and so
// unallocated in a fresh memfd).
void read_file_data(int fd, uint8_t* base, uint64_t size) {
  for (auto [from, to] : data_extents(fd, size, 0)) {
    for (off_t at = from; at < to;) {
      ssize_t n = pread(fd, base + at, static_cast<size_t>(std::min<off_t>(to - at, 1 << 30)), at);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) throw_errno("cannot read the snapshot's memory file");
      if (n == 0) fail("the snapshot's memory file ended at {} of {} bytes", at, size);
      at += n;
    }
  }
}

}  // namespace

GuestMemory GuestMemory::copy_of(UniqueFd file, uint64_t size) {
  check_memory_file(file.get(), size);
  GuestMemory mem = create(size);
  read_file_data(file.get(), mem.base_, size);
  return mem;
}

GuestMemory GuestMemory::map(UniqueFd fd, uint64_t size, bool shared) {
  GuestMemory mem;
  mem.fd_ = std::move(fd);
  mem.shareable_ = shared;
  // MAP_NORESERVE: RAM is committed by the guest touching it, not up front.
  // MAP_PRIVATE (a snapshot's file): the guest's writes go to anonymous
  // copies of the pages and never reach the file.
  int flags = (shared ? MAP_SHARED : MAP_PRIVATE) | MAP_NORESERVE;
  void* p = shared ? mmap(nullptr, size, PROT_READ | PROT_WRITE, flags, mem.fd_.get(), 0)
                   : mmap(nullptr, size, PROT_READ | PROT_WRITE, flags | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) throw_errno(fmt::format("cannot map {} MiB of guest RAM", size >> 20));
  mem.base_ = static_cast<uint8_t*>(p);
  mem.mapped_ = size;
  if (!shared) map_file_data(mem.fd_.get(), mem.base_, size);
  mem.size_ = size;
  // Guest pages are useless in a VMM core dump and may hold tenant secrets.
  madvise(p, size, MADV_DONTDUMP);

  uint64_t low = std::min(size, kMmioHoleStart);
  mem.regions_.push_back({0, low, 0});
  if (size > low) mem.regions_.push_back({kMmioHoleEnd, size - low, low});
  return mem;
}

GuestMemory::GuestMemory(GuestMemory&& other) noexcept
    : fd_(std::move(other.fd_)),
      base_(std::exchange(other.base_, nullptr)),
      size_(std::exchange(other.size_, 0)),
      mapped_(std::exchange(other.mapped_, 0)),
      shareable_(other.shareable_),
      regions_(std::move(other.regions_)),
      hotplug_(std::move(other.hotplug_)) {}

GuestMemory& GuestMemory::operator=(GuestMemory&& other) noexcept {
  if (this != &other) {
    if (base_) munmap(base_, mapped_);
    fd_ = std::move(other.fd_);
    base_ = std::exchange(other.base_, nullptr);
    size_ = std::exchange(other.size_, 0);
    mapped_ = std::exchange(other.mapped_, 0);
    shareable_ = other.shareable_;
    regions_ = std::move(other.regions_);
    hotplug_ = std::move(other.hotplug_);
  }
  return *this;
}

GuestMemory::~GuestMemory() {
  if (base_) munmap(base_, mapped_);
}

uint8_t* GuestMemory::host_ptr(uint64_t gpa, uint64_t len) const noexcept {
  for (const RamRegion& r : regions_) {
    if (gpa < r.gpa) continue;
    uint64_t off = gpa - r.gpa;
    // Written so that no sum can overflow: off < size, len <= size - off.
    if (off >= r.size && !(off == r.size && len == 0)) continue;
    if (len > r.size - off) return nullptr;
    return base_ + r.offset + off;
  }
  return hotplug_ ? hotplug_->host_ptr(gpa, len) : nullptr;
}

uint64_t GuestMemory::hotplug_base() const noexcept {
  constexpr uint64_t kGiB = uint64_t{1} << 30;
  uint64_t end = kMmioHoleEnd;
  for (const RamRegion& r : regions_) end = std::max(end, r.gpa + r.size);
  return (end + kGiB - 1) & ~(kGiB - 1);
}

void GuestMemory::add_hotplug(uint64_t size) {
  if (hotplug_) fail("guest memory already has a hotplug region");
  hotplug_ = std::make_unique<HotplugRegion>(hotplug_base(), size);
}

std::span<uint8_t> GuestMemory::slice(uint64_t gpa, uint64_t len) const {
  uint8_t* p = host_ptr(gpa, len);
  if (!p) fail("guest range {:#x}+{:#x} is outside guest RAM", gpa, len);
  return {p, static_cast<size_t>(len)};
}

void GuestMemory::write(uint64_t gpa, std::span<const uint8_t> data) const {
  std::span<uint8_t> dst = slice(gpa, data.size());
  if (!data.empty()) std::memcpy(dst.data(), data.data(), data.size());
}

void GuestMemory::read(uint64_t gpa, std::span<uint8_t> out) const {
  std::span<uint8_t> src = slice(gpa, out.size());
  if (!out.empty()) std::memcpy(out.data(), src.data(), out.size());
}

void GuestMemory::fill(uint64_t gpa, uint64_t len, uint8_t value) const {
  std::span<uint8_t> dst = slice(gpa, len);
  if (len) std::memset(dst.data(), value, len);
}

}  // namespace vmrt::vmm
