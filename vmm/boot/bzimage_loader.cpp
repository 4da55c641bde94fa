#include "vmm/boot/bzimage_loader.h"

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstring>

#include "common/error.h"
#include "vmm/boot/layout.h"

namespace vmrt::vmm::boot {

namespace {

constexpr uint64_t kSetupHeaderOffset = offsetof(boot_params, hdr);  // 0x1f1
constexpr uint64_t kSetupHeaderEnd = kSetupHeaderOffset + sizeof(setup_header);
constexpr uint16_t kBootFlag = 0xaa55;
constexpr uint32_t kHdrS = 0x53726448;    // "HdrS", little-endian
constexpr uint16_t kMinVersion = 0x020c;  // 2.12: xloadflags and the 64-bit entry
constexpr uint64_t kSectorSize = 512;
constexpr uint64_t kDefaultSetupSects = 4;  // what setup_sects = 0 means
constexpr uint64_t kEntry64Offset = 0x200;

setup_header read_header(std::span<const uint8_t> image) {
  setup_header h;
  std::memcpy(&h, image.data() + kSetupHeaderOffset, sizeof h);
  return h;
}

uint64_t align_up(uint64_t v, uint64_t align) { return (v + align - 1) & ~(align - 1); }

void check_header(const setup_header& h) {
  if (h.boot_flag != kBootFlag || h.header != kHdrS)
    fail("not a bzImage (no 0xAA55 boot flag and HdrS signature)");
  if (h.version < kMinVersion)
    fail("bzImage boot protocol {}.{:02} is older than 2.12, which the 64-bit entry needs",
         h.version >> 8, h.version & 0xff);
  if (!(h.xloadflags & XLF_KERNEL_64)) fail("bzImage has no 64-bit entry point (XLF_KERNEL_64)");
  if (!(h.loadflags & LOADED_HIGH)) fail("bzImage is a zImage (not loaded high)");
  if (h.relocatable_kernel && !std::has_single_bit(h.kernel_alignment))
    fail("bzImage kernel_alignment {:#x} is not a power of two", h.kernel_alignment);
  if (h.init_size == 0) fail("bzImage header gives no init_size");
}

}  // namespace

bool is_bzimage(std::span<const uint8_t> image) {
  if (image.size() < kSetupHeaderEnd) return false;
  setup_header h = read_header(image);
  return h.boot_flag == kBootFlag && h.header == kHdrS;
}

LoadedBzImage load_bzimage(const GuestMemory& mem, std::span<const uint8_t> image) {
  if (image.size() < kSetupHeaderEnd)
    fail("bzImage of {} bytes is shorter than its setup header (ends at {:#x})", image.size(),
         kSetupHeaderEnd);
  LoadedBzImage out{};
  out.header = read_header(image);
  setup_header& h = out.header;
  check_header(h);

  uint64_t setup_sects = h.setup_sects ? h.setup_sects : kDefaultSetupSects;
  uint64_t kernel_off = (setup_sects + 1) * kSectorSize;  // the boot sector, then setup
  if (kernel_off >= image.size())
    fail("bzImage of {} bytes has no protected-mode kernel after its {} setup sectors",
         image.size(), setup_sects);
  uint64_t kernel_size = image.size() - kernel_off;
  if (kernel_size <= kEntry64Offset)
    fail("bzImage's {}-byte protected-mode kernel ends before its 64-bit entry at {:#x}",
         kernel_size, kEntry64Offset);
  // syssize counts 16-byte paragraphs of the protected-mode kernel.
  uint64_t promised = uint64_t{h.syssize} * 16;
  if (promised > kernel_size)
    fail("bzImage is truncated: its header promises a {}-byte kernel, the file holds {}", promised,
         kernel_size);

  // The kernel runs (decompresses itself and executes) at pref_address, or
  // for a relocatable one at the load address rounded up to kernel_alignment
  // if that is higher; it needs init_size bytes there.
  const uint64_t low_top = mem.regions()[0].size;
  out.load_addr =
      h.pref_address >= layout::kHighMemory ? h.pref_address : layout::kBzImageDefaultLoad;
  uint64_t run_addr = std::max<uint64_t>(out.load_addr, h.pref_address);
  if (h.relocatable_kernel && out.load_addr < low_top)
    run_addr = std::max(run_addr, align_up(out.load_addr, h.kernel_alignment));
  if (!mem.contains(out.load_addr, kernel_size) || run_addr > low_top ||
      h.init_size > low_top - run_addr)
    fail(
        "bzImage needs {} MiB of RAM at {:#x} to run, more than {} MiB of guest RAM below the "
        "MMIO hole holds",
        (uint64_t{h.init_size} + (1 << 20) - 1) >> 20, run_addr, low_top >> 20);
  mem.write(out.load_addr, image.subspan(kernel_off));
  h.code32_start = static_cast<uint32_t>(out.load_addr);
  out.entry64 = out.load_addr + kEntry64Offset;
  out.end = std::max(out.load_addr + kernel_size, run_addr + h.init_size);
  return out;
}

}  // namespace vmrt::vmm::boot
