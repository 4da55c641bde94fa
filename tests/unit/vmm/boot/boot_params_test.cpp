// The boot information the kernel reads: the zero page of the 64-bit
// protocol and the PVH start info.
#include "vmm/boot/boot_params.h"

#include <gtest/gtest.h>

#include "common/error.h"
#include "tests/unit/vmm/boot/boot_images.h"
#include "vmm/boot/layout.h"
#include "vmm/boot/pvh_abi.h"

namespace vmrt::vmm::boot {
namespace {

setup_header bzimage_header() {
  auto img = test::make_bzimage();
  setup_header h;
  std::memcpy(&h, img.data() + offsetof(boot_params, hdr), sizeof h);
  return h;
}

TEST(ZeroPage, FillsTheLoaderFieldsAndKeepsTheKernels) {
  auto mem = GuestMemory::create(128 << 20);
  auto map = memory_map(mem);
  boot_params zp = make_zero_page(bzimage_header(), map, layout::kCmdline, {0x7000000, 12345});
  EXPECT_EQ(zp.hdr.type_of_loader, 0xff);
  EXPECT_EQ(zp.hdr.loadflags & (LOADED_HIGH | KEEP_SEGMENTS), LOADED_HIGH | KEEP_SEGMENTS);
  EXPECT_EQ(zp.hdr.loadflags & CAN_USE_HEAP, 0);
  EXPECT_EQ(zp.hdr.cmd_line_ptr, layout::kCmdline);
  EXPECT_EQ(zp.ext_cmd_line_ptr, 0u);
  EXPECT_EQ(zp.hdr.ramdisk_image, 0x7000000u);
  EXPECT_EQ(zp.hdr.ramdisk_size, 12345u);
  EXPECT_EQ(zp.ext_ramdisk_image, 0u);
  EXPECT_EQ(zp.ext_ramdisk_size, 0u);
  EXPECT_EQ(zp.hdr.setup_data, 0u) << "the image's value is not ours to pass on";
  EXPECT_EQ(zp.sentinel, 0) << "else the kernel discards the fields above";
  // The kernel's own fields stay.
  EXPECT_EQ(zp.hdr.version, 0x020f);
  EXPECT_EQ(zp.hdr.kernel_alignment, 0x200000u);
  EXPECT_EQ(zp.hdr.cmdline_size, 2047u);
  ASSERT_EQ(zp.e820_entries, map.size());
  for (size_t i = 0; i < map.size(); ++i) {
    EXPECT_EQ(zp.e820_table[i].addr, map[i].addr);
    EXPECT_EQ(zp.e820_table[i].size, map[i].size);
    EXPECT_EQ(zp.e820_table[i].type, map[i].type);
  }
}

TEST(ZeroPage, HighInitrdGoesToTheExtFields) {
  auto mem = GuestMemory::create(16 << 20);
  boot_params zp = make_zero_page(vmlinux_setup_header(), memory_map(mem), layout::kCmdline,
                                  {0x123456000, 0x100002000});
  EXPECT_EQ(zp.hdr.ramdisk_image, 0x23456000u);
  EXPECT_EQ(zp.ext_ramdisk_image, 1u);
  EXPECT_EQ(zp.hdr.ramdisk_size, 0x2000u);
  EXPECT_EQ(zp.ext_ramdisk_size, 1u);
}

TEST(ZeroPage, RefusesWhatItCannotHold) {
  std::vector<MemoryMapEntry> big(E820_MAX_ENTRIES_ZEROPAGE + 1, {0, 4096, kE820Ram});
  EXPECT_THROW(make_zero_page(vmlinux_setup_header(), big, layout::kCmdline, {}), Error);
  EXPECT_THROW(make_zero_page(vmlinux_setup_header(), {}, uint64_t{1} << 32, {}), Error);
}

TEST(ZeroPage, VmlinuxHeaderLooksLikeAModernBzImages) {
  setup_header h = vmlinux_setup_header();
  EXPECT_EQ(h.boot_flag, 0xaa55);
  EXPECT_EQ(h.header, 0x53726448u);
  EXPECT_GE(h.version, 0x020c);
  EXPECT_TRUE(h.xloadflags & XLF_KERNEL_64);
  EXPECT_EQ(h.kernel_alignment, 0x1000000u);
  EXPECT_EQ(h.initrd_addr_max, 0x7fffffffu);
  EXPECT_EQ(h.cmdline_size, layout::kCmdlineMax - 1);
}

TEST(ZeroPage, IsWrittenAtItsFixedAddress) {
  auto mem = GuestMemory::create(16 << 20);
  boot_params zp = make_zero_page(vmlinux_setup_header(), memory_map(mem), layout::kCmdline, {});
  EXPECT_EQ(write_zero_page(mem, zp), layout::kZeroPage);
  EXPECT_EQ(mem.read_obj<boot_params>(layout::kZeroPage).hdr.cmd_line_ptr, layout::kCmdline);
}

TEST(PvhStartInfo, CarriesMemoryMapCommandLineAndInitrdModule) {
  auto mem = GuestMemory::create(uint64_t{4} << 30);
  auto map = memory_map(mem);
  uint64_t at = write_pvh_start_info(mem, map, layout::kCmdline, {0x8000000, 4096});
  ASSERT_EQ(at, layout::kPvhStartInfo);
  auto info = mem.read_obj<hvm_start_info>(at);
  EXPECT_EQ(info.magic, 0x336ec578u);
  EXPECT_EQ(info.version, 1u);
  EXPECT_EQ(info.cmdline_paddr, layout::kCmdline);
  EXPECT_EQ(info.rsdp_paddr, 0u);
  ASSERT_EQ(info.memmap_entries, 4u);
  for (size_t i = 0; i < map.size(); ++i) {
    auto e = mem.read_obj<hvm_memmap_table_entry>(info.memmap_paddr + i * 24);
    EXPECT_EQ(e.addr, map[i].addr);
    EXPECT_EQ(e.size, map[i].size);
    EXPECT_EQ(e.type, map[i].type);
  }
  EXPECT_EQ(mem.read_obj<hvm_memmap_table_entry>(info.memmap_paddr + 3 * 24).addr,
            uint64_t{4} << 30);
  ASSERT_EQ(info.nr_modules, 1u);
  auto mod = mem.read_obj<hvm_modlist_entry>(info.modlist_paddr);
  EXPECT_EQ(mod.paddr, 0x8000000u);
  EXPECT_EQ(mod.size, 4096u);
  EXPECT_EQ(mod.cmdline_paddr, 0u);
}

TEST(PvhStartInfo, WithoutInitrdHasNoModules) {
  auto mem = GuestMemory::create(16 << 20);
  write_pvh_start_info(mem, memory_map(mem), layout::kCmdline, {});
  auto info = mem.read_obj<hvm_start_info>(layout::kPvhStartInfo);
  EXPECT_EQ(info.nr_modules, 0u);
  EXPECT_EQ(info.modlist_paddr, 0u);
}

TEST(PvhStartInfo, RefusesAMapLargerThanItsArea) {
  auto mem = GuestMemory::create(16 << 20);
  std::vector<MemoryMapEntry> big(200, {0, 4096, kE820Ram});
  EXPECT_THROW(write_pvh_start_info(mem, big, layout::kCmdline, {}), Error);
}

}  // namespace
}  // namespace vmrt::vmm::boot
