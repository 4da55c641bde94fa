#include "vmm/boot/kernel_loader.h"

#include <asm/bootparam.h>

#include <algorithm>

#include "common/error.h"
#include "vmm/boot/bzimage_loader.h"
#include "vmm/boot/cpu_tables.h"
#include "vmm/boot/e820.h"
#include "vmm/boot/elf_loader.h"
#include "vmm/boot/layout.h"
#include "vmm/boot/mptable.h"
#include "vmm/boot/pvh_abi.h"

namespace vmrt::vmm::boot {

namespace {

constexpr uint64_t kPage = 4096;
// The kernel's default initrd_addr_max for boot protocols that do not give one.
constexpr uint64_t kDefaultInitrdMax = 0x37ffffff;

// Places the initrd as high as possible below `limit`, above `kernel_end`.
uint64_t place_initrd(const GuestMemory& mem, std::span<const uint8_t> initrd, uint64_t kernel_end,
                      uint64_t limit) {
  uint64_t low_top = mem.regions()[0].size;
  uint64_t top = std::min(low_top, limit + 1);
  if (initrd.size() > top || initrd.size() > mem.size())
    fail("initrd of {} MiB does not fit in {} MiB of guest RAM", initrd.size() >> 20,
         mem.size() >> 20);
  uint64_t addr = (top - initrd.size()) & ~(kPage - 1);
  if (addr < kernel_end)
    fail("initrd of {} MiB does not fit in guest RAM above the kernel (ends at {} MiB of {} MiB)",
         initrd.size() >> 20, kernel_end >> 20, low_top >> 20);
  mem.write(addr, initrd);
  return addr;
}

void write_cmdline(const GuestMemory& mem, const std::string& cmdline) {
  if (cmdline.size() + 1 > layout::kCmdlineMax)
    fail("kernel command line of {} bytes is longer than the {}-byte limit", cmdline.size(),
         layout::kCmdlineMax - 1);
  if (cmdline.find('\0') != std::string::npos) fail("kernel command line contains a NUL byte");
  mem.write(layout::kCmdline,
            {reinterpret_cast<const uint8_t*>(cmdline.c_str()), cmdline.size() + 1});
}

void write_pvh_start_info(const GuestMemory& mem, uint64_t initrd_addr, uint64_t initrd_size) {
  std::vector<MemoryMapEntry> map = memory_map(mem);
  for (size_t i = 0; i < map.size(); ++i)
    mem.write_obj(layout::kPvhMemmap + i * sizeof(HvmMemmapEntry),
                  HvmMemmapEntry{map[i].addr, map[i].size, map[i].type, 0});
  HvmStartInfo info{};
  info.magic = kPvhStartMagic;
  info.version = 1;
  info.cmdline_paddr = layout::kCmdline;
  info.memmap_paddr = layout::kPvhMemmap;
  info.memmap_entries = static_cast<uint32_t>(map.size());
  if (initrd_size) {
    mem.write_obj(layout::kPvhModlist, HvmModlistEntry{initrd_addr, initrd_size, 0, 0});
    info.nr_modules = 1;
    info.modlist_paddr = layout::kPvhModlist;
  }
  mem.write_obj(layout::kPvhStartInfo, info);
}

void write_zero_page(const GuestMemory& mem, const setup_header& hdr, uint64_t initrd_addr,
                     uint64_t initrd_size) {
  boot_params zp{};
  zp.hdr = hdr;
  zp.hdr.type_of_loader = 0xff;  // "undefined" boot loader
  zp.hdr.loadflags |= LOADED_HIGH | KEEP_SEGMENTS;
  zp.hdr.cmd_line_ptr = static_cast<uint32_t>(layout::kCmdline);
  zp.ext_cmd_line_ptr = 0;
  zp.hdr.ramdisk_image = static_cast<uint32_t>(initrd_addr);
  zp.ext_ramdisk_image = static_cast<uint32_t>(initrd_addr >> 32);
  zp.hdr.ramdisk_size = static_cast<uint32_t>(initrd_size);
  zp.ext_ramdisk_size = static_cast<uint32_t>(initrd_size >> 32);
  std::vector<MemoryMapEntry> map = memory_map(mem);
  if (map.size() > E820_MAX_ENTRIES_ZEROPAGE) fail("memory map has too many entries");
  for (size_t i = 0; i < map.size(); ++i)
    zp.e820_table[i] = boot_e820_entry{map[i].addr, map[i].size, map[i].type};
  zp.e820_entries = static_cast<uint8_t>(map.size());
  mem.write_obj(layout::kZeroPage, zp);
}

// A setup header for an ELF vmlinux booted through the 64-bit protocol,
// which has no header of its own.
setup_header synthesized_header() {
  setup_header h{};
  h.boot_flag = 0xaa55;
  h.header = 0x53726448;
  h.version = 0x020f;
  h.kernel_alignment = 0x1000000;
  h.initrd_addr_max = kDefaultInitrdMax;
  h.cmdline_size = layout::kCmdlineMax - 1;
  return h;
}

}  // namespace

BootSetup load_kernel(const GuestMemory& mem, const BootConfig& config) {
  if (config.kernel.empty()) fail("the guest kernel image is empty");
  write_cmdline(mem, config.cmdline);
  write_gdt(mem);
  write_mptable(mem, config.cpus);

  BootSetup setup{};
  uint64_t kernel_end;
  uint64_t initrd_max = kDefaultInitrdMax;
  setup_header hdr = synthesized_header();
  if (is_elf(config.kernel)) {
    LoadedElf elf = load_elf(mem, config.kernel);
    kernel_end = elf.end;
    if (elf.pvh_entry) {
      setup.mode = BootSetup::Mode::Pvh32;
      setup.entry = *elf.pvh_entry;
      setup.boot_info = layout::kPvhStartInfo;
    } else {
      setup.mode = BootSetup::Mode::Linux64;
      setup.entry = elf.entry64;
    }
  } else if (is_bzimage(config.kernel)) {
    LoadedBzImage bz = load_bzimage(mem, config.kernel);
    kernel_end = bz.end;
    hdr = bz.header;
    if (hdr.initrd_addr_max) initrd_max = hdr.initrd_addr_max;
    setup.mode = BootSetup::Mode::Linux64;
    setup.entry = bz.entry64;
  } else {
    fail("the guest kernel is neither an ELF vmlinux nor a bzImage");
  }

  if (!config.initrd.empty())
    setup.initrd_addr = place_initrd(mem, config.initrd, kernel_end, initrd_max);
  if (setup.mode == BootSetup::Mode::Pvh32) {
    write_pvh_start_info(mem, setup.initrd_addr, config.initrd.size());
  } else {
    setup.boot_info = layout::kZeroPage;
    setup.cr3 = write_identity_page_tables(mem);
    write_zero_page(mem, hdr, setup.initrd_addr, config.initrd.size());
  }
  return setup;
}

}  // namespace vmrt::vmm::boot
