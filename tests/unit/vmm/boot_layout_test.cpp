// What the kernel finds in guest memory: e820 map, MP table, PVH start info,
// zero page, command line and initrd placement; bzImage header checks.
#include <asm/bootparam.h>
#include <gtest/gtest.h>

#include <cstring>
#include <numeric>
#include <vector>

#include "common/error.h"
#include "tests/support/error_text.h"
#include "vmm/boot/bzimage_loader.h"
#include "vmm/boot/e820.h"
#include "vmm/boot/kernel_loader.h"
#include "vmm/boot/layout.h"
#include "vmm/boot/mptable.h"
#include "vmm/boot/mptable_abi.h"
#include "vmm/boot/pvh_abi.h"

namespace vmrt::vmm::boot {
namespace {

uint8_t sum(const GuestMemory& mem, uint64_t gpa, uint64_t len) {
  auto s = mem.slice(gpa, len);
  return std::accumulate(s.begin(), s.end(), uint8_t{0},
                         [](uint8_t a, uint8_t b) { return uint8_t(a + b); });
}

using test::error_text;

TEST(E820, SmallGuestHasLowRamReservedBiosAreaAndHighRam) {
  auto mem = GuestMemory::create(128 << 20);
  auto map = memory_map(mem);
  ASSERT_EQ(map.size(), 3u);
  EXPECT_EQ(map[0].addr, 0u);
  EXPECT_EQ(map[0].size, layout::kEbdaStart);
  EXPECT_EQ(map[1].type, kE820Reserved);
  EXPECT_EQ(map[2].addr, layout::kHighMemory);
  EXPECT_EQ(map[2].addr + map[2].size, 128u << 20);
}

TEST(E820, LargeGuestContinuesAboveFourGiB) {
  auto mem = GuestMemory::create(uint64_t{5} << 30);
  auto map = memory_map(mem);
  ASSERT_EQ(map.size(), 4u);
  EXPECT_EQ(map[2].addr + map[2].size, GuestMemory::kMmioHoleStart);
  EXPECT_EQ(map[3].addr, GuestMemory::kMmioHoleEnd);
  EXPECT_EQ(map[3].size, uint64_t{2} << 30);
  EXPECT_EQ(map[3].type, kE820Ram);
}

class MpTable : public ::testing::TestWithParam<uint32_t> {};

TEST_P(MpTable, ChecksumsAndCpuEntriesAreRight) {
  uint32_t cpus = GetParam();
  auto mem = GuestMemory::create(16 << 20);
  write_mptable(mem, cpus);
  auto fp = mem.read_obj<MpFloatingPointer>(layout::kMpTable);
  EXPECT_EQ(std::memcmp(fp.signature, "_MP_", 4), 0);
  EXPECT_EQ(sum(mem, layout::kMpTable, sizeof fp), 0);
  auto hdr = mem.read_obj<MpConfigHeader>(fp.physptr);
  EXPECT_EQ(std::memcmp(hdr.signature, "PCMP", 4), 0);
  EXPECT_EQ(sum(mem, fp.physptr, hdr.length), 0);
  EXPECT_EQ(hdr.lapic, layout::kLocalApic);
  for (uint32_t i = 0; i < cpus; ++i) {
    auto cpu = mem.read_obj<MpCpu>(fp.physptr + sizeof hdr + i * sizeof(MpCpu));
    EXPECT_EQ(cpu.type, 0);
    EXPECT_EQ(cpu.apicid, i);
    EXPECT_EQ(cpu.cpuflag & kMpCpuBootProcessor, i == 0 ? kMpCpuBootProcessor : 0);
    EXPECT_TRUE(cpu.cpuflag & kMpCpuEnabled);
  }
  // CPUs, bus, IOAPIC, 24 interrupt sources, 2 local interrupts.
  EXPECT_EQ(hdr.entry_count, cpus + 1 + 1 + 24 + 2);
  auto ioapic =
      mem.read_obj<MpIoApic>(fp.physptr + sizeof hdr + cpus * sizeof(MpCpu) + sizeof(MpBus));
  EXPECT_EQ(ioapic.type, 2);
  EXPECT_EQ(ioapic.apicid, cpus);
  EXPECT_EQ(ioapic.apicaddr, layout::kIoApic);
}

INSTANTIATE_TEST_SUITE_P(Cpus, MpTable, ::testing::Values(1u, 2u, 8u, 254u));

TEST(MpTableLimits, ZeroOrTooManyCpusAreRefused) {
  auto mem = GuestMemory::create(16 << 20);
  EXPECT_THROW(write_mptable(mem, 0), Error);
  EXPECT_THROW(write_mptable(mem, 255), Error);
}

// A bzImage with a 2.15 header and a tiny protected-mode kernel.
std::vector<uint8_t> make_bzimage(uint16_t version = 0x020f, uint16_t xloadflags = XLF_KERNEL_64) {
  std::vector<uint8_t> img(5 * 512 + 4096, 0);
  setup_header h{};
  h.setup_sects = 4;
  h.boot_flag = 0xaa55;
  h.header = 0x53726448;
  h.version = version;
  h.loadflags = LOADED_HIGH;
  h.xloadflags = xloadflags;
  h.pref_address = 0x1000000;
  h.init_size = 0x10000;
  h.initrd_addr_max = 0x7fffffff;
  std::memcpy(img.data() + 0x1f1, &h, sizeof h);
  img[5 * 512] = 0xaa;  // first byte of the protected-mode kernel
  return img;
}

TEST(BzImage, LoadsTheKernelAtItsPreferredAddress) {
  auto mem = GuestMemory::create(64 << 20);
  auto img = make_bzimage();
  ASSERT_TRUE(is_bzimage(img));
  LoadedBzImage bz = load_bzimage(mem, img);
  EXPECT_EQ(bz.load_addr, 0x1000000u);
  EXPECT_EQ(bz.entry64, 0x1000200u);
  EXPECT_EQ(mem.read_obj<uint8_t>(0x1000000), 0xaa);
}

TEST(BzImage, RejectsBadHeaders) {
  auto mem = GuestMemory::create(64 << 20);
  auto img = make_bzimage();
  auto no_magic = img;
  no_magic[0x1fe] = 0;
  EXPECT_NE(error_text([&] { load_bzimage(mem, no_magic); }).find("boot flag"), std::string::npos);
  EXPECT_NE(error_text([&] { load_bzimage(mem, make_bzimage(0x0206)); }).find("older than 2.12"),
            std::string::npos);
  EXPECT_NE(error_text([&] { load_bzimage(mem, make_bzimage(0x020f, 0)); }).find("64-bit"),
            std::string::npos);
  std::vector<uint8_t> truncated(img.begin(), img.begin() + 0x210);
  EXPECT_NE(error_text([&] { load_bzimage(mem, truncated); }).find("shorter"), std::string::npos);
  std::vector<uint8_t> no_kernel(img.begin(), img.begin() + 5 * 512);
  EXPECT_NE(error_text([&] { load_bzimage(mem, no_kernel); }).find("no protected-mode kernel"),
            std::string::npos);
  auto small = GuestMemory::create(8 << 20);
  EXPECT_NE(error_text([&] { load_bzimage(small, img); }).find("more than guest RAM"),
            std::string::npos);
}

TEST(KernelLoader, BzImageGetsAZeroPageWithCmdlineInitrdAndE820) {
  auto mem = GuestMemory::create(64 << 20);
  std::vector<uint8_t> initrd(100000, 0x42);
  BootSetup s = load_kernel(mem, {make_bzimage(), initrd, "console=ttyS0 quiet", 2});
  EXPECT_EQ(s.mode, BootSetup::Mode::Linux64);
  EXPECT_EQ(s.boot_info, layout::kZeroPage);
  auto zp = mem.read_obj<boot_params>(layout::kZeroPage);
  EXPECT_EQ(zp.hdr.type_of_loader, 0xff);
  EXPECT_EQ(zp.hdr.cmd_line_ptr, layout::kCmdline);
  EXPECT_STREQ(reinterpret_cast<const char*>(mem.slice(layout::kCmdline, 20).data()),
               "console=ttyS0 quiet");
  EXPECT_EQ(zp.hdr.ramdisk_size, initrd.size());
  EXPECT_EQ(zp.hdr.ramdisk_image % 4096, 0u);
  EXPECT_LE(zp.hdr.ramdisk_image + initrd.size(), 64u << 20);
  EXPECT_EQ(mem.read_obj<uint8_t>(zp.hdr.ramdisk_image), 0x42);
  EXPECT_EQ(zp.e820_entries, 3);
  EXPECT_NE(s.cr3, 0u);
}

TEST(KernelLoader, RefusesOversizedInputsWithClearErrors) {
  auto mem = GuestMemory::create(32 << 20);
  std::vector<uint8_t> initrd(40 << 20, 1);
  EXPECT_NE(error_text([&] {
              load_kernel(mem, {make_bzimage(), initrd, "", 1});
            }).find("does not fit"),
            std::string::npos);
  std::string long_cmdline(5000, 'a');
  EXPECT_NE(error_text([&] {
              load_kernel(mem, {make_bzimage(), {}, long_cmdline, 1});
            }).find("command line"),
            std::string::npos);
  std::vector<uint8_t> junk(4096, 0x11);
  EXPECT_NE(error_text([&] {
              load_kernel(mem, {junk, {}, "", 1});
            }).find("neither an ELF vmlinux nor a bzImage"),
            std::string::npos);
}

}  // namespace
}  // namespace vmrt::vmm::boot
