#include "vmm/boot/boot_params.h"

#include "common/error.h"
#include "vmm/boot/layout.h"
#include "vmm/boot/pvh_abi.h"

namespace vmrt::vmm::boot {

namespace {

constexpr uint16_t kBootFlag = 0xaa55;
constexpr uint32_t kHdrS = 0x53726448;  // "HdrS"
// The protocol version of the kernels we build (6.1 reports 2.15).
constexpr uint16_t kVmlinuxProtocol = 0x020f;
// arch/x86/boot/header.S: CONFIG_PHYSICAL_ALIGN's default and the initrd
// limit every 64-bit kernel advertises.
constexpr uint32_t kVmlinuxAlignment = 0x1000000;
constexpr uint32_t kVmlinuxInitrdMax = 0x7fffffff;

uint32_t low32(uint64_t v) { return static_cast<uint32_t>(v); }
uint32_t high32(uint64_t v) { return static_cast<uint32_t>(v >> 32); }

}  // namespace

setup_header vmlinux_setup_header() {
  setup_header h{};
  h.boot_flag = kBootFlag;
  h.header = kHdrS;
  h.version = kVmlinuxProtocol;
  h.loadflags = LOADED_HIGH;
  h.xloadflags = XLF_KERNEL_64;
  h.kernel_alignment = kVmlinuxAlignment;
  h.relocatable_kernel = 1;
  h.initrd_addr_max = kVmlinuxInitrdMax;
  h.cmdline_size = layout::kCmdlineMax - 1;
  return h;
}

boot_params make_zero_page(const setup_header& kernel_header, std::span<const MemoryMapEntry> map,
                           uint64_t cmdline_addr, BootModule initrd) {
  if (map.size() > E820_MAX_ENTRIES_ZEROPAGE)
    fail("memory map of {} entries does not fit in the zero page's {}", map.size(),
         E820_MAX_ENTRIES_ZEROPAGE);
  if (high32(cmdline_addr) != 0) fail("command line at {:#x} is above 4 GiB", cmdline_addr);
  // Zero-initialized, so the sentinel is 0 and the kernel trusts every field.
  boot_params zp{};
  zp.hdr = kernel_header;
  zp.hdr.type_of_loader = kLoaderTypeUndefined;
  // The 64-bit entry runs none of the real-mode setup code: no heap to use.
  zp.hdr.loadflags =
      static_cast<uint8_t>((zp.hdr.loadflags & ~CAN_USE_HEAP) | LOADED_HIGH | KEEP_SEGMENTS);
  zp.hdr.heap_end_ptr = 0;
  zp.hdr.setup_data = 0;  // a pointer only a loader sets: no setup_data list
  zp.hdr.cmd_line_ptr = low32(cmdline_addr);
  zp.ext_cmd_line_ptr = 0;
  zp.hdr.ramdisk_image = low32(initrd.addr);
  zp.ext_ramdisk_image = high32(initrd.addr);
  zp.hdr.ramdisk_size = low32(initrd.size);
  zp.ext_ramdisk_size = high32(initrd.size);
  for (size_t i = 0; i < map.size(); ++i)
    zp.e820_table[i] = boot_e820_entry{map[i].addr, map[i].size, map[i].type};
  zp.e820_entries = static_cast<uint8_t>(map.size());
  return zp;
}

uint64_t write_zero_page(const GuestMemory& mem, const boot_params& zero_page) {
  mem.write_obj(layout::kZeroPage, zero_page);
  return layout::kZeroPage;
}

uint64_t write_pvh_start_info(const GuestMemory& mem, std::span<const MemoryMapEntry> map,
                              uint64_t cmdline_addr, BootModule initrd) {
  const uint64_t capacity =
      (layout::kPvhMemmapEnd - layout::kPvhMemmap) / sizeof(hvm_memmap_table_entry);
  if (map.size() > capacity)
    fail("memory map of {} entries does not fit in the PVH start info's {}", map.size(), capacity);
  for (size_t i = 0; i < map.size(); ++i)
    mem.write_obj(layout::kPvhMemmap + i * sizeof(hvm_memmap_table_entry),
                  hvm_memmap_table_entry{map[i].addr, map[i].size, map[i].type, 0});
  hvm_start_info info{};
  info.magic = kXenHvmStartMagic;
  info.version = kHvmStartInfoVersion;
  info.cmdline_paddr = cmdline_addr;
  info.memmap_paddr = layout::kPvhMemmap;
  info.memmap_entries = static_cast<uint32_t>(map.size());
  if (initrd.size != 0) {
    // Linux takes module 0 as its initrd.
    mem.write_obj(layout::kPvhModlist, hvm_modlist_entry{initrd.addr, initrd.size, 0, 0});
    info.nr_modules = 1;
    info.modlist_paddr = layout::kPvhModlist;
  }
  mem.write_obj(layout::kPvhStartInfo, info);
  return layout::kPvhStartInfo;
}

}  // namespace vmrt::vmm::boot
