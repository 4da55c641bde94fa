#include "vmm/boot/bzimage_loader.h"

#include <algorithm>
#include <cstddef>
#include <cstring>

#include "common/error.h"
#include "vmm/boot/layout.h"

namespace vmrt::vmm::boot {

namespace {
constexpr uint64_t kSetupHeaderOffset = offsetof(boot_params, hdr);  // 0x1f1
constexpr uint16_t kBootFlag = 0xaa55;
constexpr uint32_t kHdrS = 0x53726448;    // "HdrS"
constexpr uint16_t kMinVersion = 0x020c;  // 2.12: xloadflags and the 64-bit entry
constexpr uint64_t kEntry64Offset = 0x200;
}  // namespace

bool is_bzimage(std::span<const uint8_t> image) {
  if (image.size() < kSetupHeaderOffset + sizeof(setup_header)) return false;
  setup_header h;
  std::memcpy(&h, image.data() + kSetupHeaderOffset, sizeof h);
  return h.boot_flag == kBootFlag && h.header == kHdrS;
}

LoadedBzImage load_bzimage(const GuestMemory& mem, std::span<const uint8_t> image) {
  if (image.size() < kSetupHeaderOffset + sizeof(setup_header))
    fail("bzImage of {} bytes is shorter than its setup header", image.size());
  LoadedBzImage out{};
  std::memcpy(&out.header, image.data() + kSetupHeaderOffset, sizeof out.header);
  const setup_header& h = out.header;
  if (h.boot_flag != kBootFlag || h.header != kHdrS)
    fail("not a bzImage (no boot flag or HdrS signature)");
  if (h.version < kMinVersion)
    fail("bzImage boot protocol {}.{} is older than 2.12", h.version >> 8, h.version & 0xff);
  if (!(h.xloadflags & XLF_KERNEL_64)) fail("bzImage has no 64-bit entry point (XLF_KERNEL_64)");
  if (!(h.loadflags & LOADED_HIGH)) fail("bzImage is not a high-loaded (bzImage) kernel");

  uint64_t setup_sects = h.setup_sects ? h.setup_sects : 4;
  uint64_t kernel_off = (setup_sects + 1) * 512;
  if (kernel_off >= image.size())
    fail("bzImage has no protected-mode kernel after its {} setup sectors", setup_sects);
  uint64_t kernel_size = image.size() - kernel_off;

  out.load_addr = h.pref_address ? h.pref_address : layout::kBzImageLoad;
  if (out.load_addr < layout::kHighMemory) out.load_addr = layout::kBzImageLoad;
  uint64_t footprint = std::max<uint64_t>(kernel_size, h.init_size);
  if (!mem.contains(out.load_addr, footprint))
    fail("bzImage needs {} MiB at {:#x}, more than guest RAM holds", footprint >> 20,
         out.load_addr);
  mem.write(out.load_addr, image.subspan(kernel_off));
  out.entry64 = out.load_addr + kEntry64Offset;
  out.end = out.load_addr + footprint;
  return out;
}

}  // namespace vmrt::vmm::boot
