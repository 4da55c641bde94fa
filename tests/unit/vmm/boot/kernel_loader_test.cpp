// load_kernel end to end on crafted images: which boot path it picks, what it
// leaves in guest memory and registers, and its errors. With VMRT_TEST_VMLINUX
// (and VMRT_TEST_BZIMAGE) pointing at the real guest kernel, that too.
#include "vmm/boot/kernel_loader.h"

#include <asm/bootparam.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "common/error.h"
#include "common/tempdir.h"
#include "tests/support/error_text.h"
#include "tests/unit/vmm/boot/boot_images.h"
#include "vmm/boot/layout.h"
#include "vmm/boot/mptable_abi.h"
#include "vmm/boot/pvh_abi.h"

namespace vmrt::vmm::boot {
namespace {

using test::BzImageOptions;
using test::ElfBuilder;
using test::kElfLoad;
using test::make_bzimage;
using vmrt::test::error_text;

#define EXPECT_CONTAINS(haystack, needle) \
  EXPECT_PRED_FORMAT2(::testing::IsSubstring, needle, haystack)

std::string cmdline_at(const GuestMemory& mem, uint64_t gpa) {
  auto s = mem.slice(gpa, layout::kCmdlineMax);
  return std::string(reinterpret_cast<const char*>(s.data()),
                     strnlen(reinterpret_cast<const char*>(s.data()), s.size()));
}

void expect_mp_table(const GuestMemory& mem, uint32_t cpus) {
  auto fp = mem.read_obj<mpf_intel>(layout::kMpTable);
  ASSERT_EQ(std::memcmp(fp.signature, "_MP_", 4), 0);
  EXPECT_EQ(mem.read_obj<mpc_table>(fp.physptr).oemcount, cpus + 28);
}

TEST(KernelLoader, PvhElfGetsStartInfoAndThirtyTwoBitRegisters) {
  auto mem = GuestMemory::create(64 << 20);
  ElfBuilder b;
  b.add_pvh_note(kElfLoad + 0x40);
  std::vector<uint8_t> initrd(100000, 0x42);
  BootSetup s = load_kernel(mem, {b.build(), initrd, "console=ttyS0", 2});
  EXPECT_EQ(s.mode, BootSetup::Mode::Pvh32);
  EXPECT_EQ(s.entry, kElfLoad + 0x40);
  EXPECT_EQ(s.boot_info, layout::kPvhStartInfo);
  EXPECT_EQ(s.cr3, 0u);
  EXPECT_EQ(s.cr0, 0x11u) << "PE|ET, paging off";
  EXPECT_EQ(s.cr4, 0u);
  EXPECT_EQ(s.efer, 0u);
  EXPECT_EQ(s.rflags, 0x2u);
  EXPECT_EQ(s.gdt.cs.selector, kCode32Selector);
  EXPECT_EQ(s.gdt.cs.db, 1);
  EXPECT_EQ(s.gdt.cs.l, 0);
  EXPECT_EQ(s.gdt.tr.limit, 0x67u);
  auto info = mem.read_obj<hvm_start_info>(layout::kPvhStartInfo);
  EXPECT_EQ(info.magic, kXenHvmStartMagic);
  EXPECT_EQ(cmdline_at(mem, info.cmdline_paddr), "console=ttyS0");
  ASSERT_EQ(info.nr_modules, 1u);
  auto mod = mem.read_obj<hvm_modlist_entry>(info.modlist_paddr);
  EXPECT_EQ(mod.paddr, s.initrd_addr);
  EXPECT_EQ(mod.size, initrd.size());
  EXPECT_EQ(s.initrd_addr % 4096, 0u);
  EXPECT_LE(s.initrd_addr + initrd.size(), 64u << 20);
  EXPECT_GE(s.initrd_addr, (64u << 20) - 0x20000) << "as high as it goes";
  EXPECT_EQ(mem.read_obj<uint8_t>(s.initrd_addr + initrd.size() - 1), 0x42);
  expect_mp_table(mem, 2);
}

TEST(KernelLoader, ElfWithoutNoteBootsLinux64WithASynthesizedHeader) {
  auto mem = GuestMemory::create(64 << 20);
  BootSetup s = load_kernel(mem, {ElfBuilder().build(), {}, "quiet", 1});
  EXPECT_EQ(s.mode, BootSetup::Mode::Linux64);
  EXPECT_EQ(s.entry, kElfLoad);
  EXPECT_EQ(s.boot_info, layout::kZeroPage);
  EXPECT_EQ(s.cr3, layout::kPml4);
  EXPECT_EQ(s.cr0, 0x80000011u) << "PE|ET|PG";
  EXPECT_EQ(s.cr4, 0x20u) << "PAE";
  EXPECT_EQ(s.efer, 0x500u) << "LME|LMA";
  EXPECT_EQ(s.rsp, layout::kBootStack);
  EXPECT_EQ(s.gdt.cs.selector, 0x10) << "__BOOT_CS";
  EXPECT_EQ(s.gdt.cs.l, 1);
  EXPECT_EQ(s.gdt.data.selector, 0x18) << "__BOOT_DS";
  EXPECT_EQ(s.initrd_size, 0u);
  auto zp = mem.read_obj<boot_params>(layout::kZeroPage);
  EXPECT_EQ(zp.hdr.boot_flag, 0xaa55);
  EXPECT_EQ(zp.hdr.header, 0x53726448u);
  EXPECT_EQ(zp.hdr.type_of_loader, 0xff);
  EXPECT_EQ(zp.hdr.ramdisk_image, 0u);
  EXPECT_EQ(zp.hdr.ramdisk_size, 0u);
  EXPECT_EQ(cmdline_at(mem, zp.hdr.cmd_line_ptr), "quiet");
  EXPECT_EQ(zp.e820_entries, 3);
  EXPECT_EQ(mem.read_obj<uint64_t>(layout::kPml4), layout::kPdpt | 3);
}

TEST(KernelLoader, BzImageGetsAZeroPageWithCmdlineInitrdAndE820) {
  auto mem = GuestMemory::create(64 << 20);
  std::vector<uint8_t> initrd(100000, 0x42);
  BootSetup s = load_kernel(mem, {make_bzimage(), initrd, "console=ttyS0 quiet", 8});
  EXPECT_EQ(s.mode, BootSetup::Mode::Linux64);
  EXPECT_EQ(s.entry, 0x1000200u);
  auto zp = mem.read_obj<boot_params>(layout::kZeroPage);
  EXPECT_EQ(zp.hdr.type_of_loader, 0xff);
  EXPECT_EQ(zp.hdr.code32_start, 0x1000000u);
  EXPECT_EQ(zp.hdr.setup_data, 0u);
  EXPECT_EQ(cmdline_at(mem, zp.hdr.cmd_line_ptr), "console=ttyS0 quiet");
  EXPECT_EQ(zp.hdr.ramdisk_image, s.initrd_addr);
  EXPECT_EQ(zp.hdr.ramdisk_size, initrd.size());
  EXPECT_EQ(zp.hdr.ramdisk_image % 4096, 0u);
  EXPECT_LE(zp.hdr.ramdisk_image + initrd.size(), 64u << 20);
  EXPECT_EQ(mem.read_obj<uint8_t>(zp.hdr.ramdisk_image), 0x42);
  EXPECT_EQ(zp.e820_entries, 3);
  expect_mp_table(mem, 8);
}

TEST(KernelLoader, InitrdStaysBelowTheHeadersLimitAndTheMmioHole) {
  auto big = GuestMemory::create(uint64_t{4} << 30);
  std::vector<uint8_t> initrd(8192, 1);
  BootSetup limited = load_kernel(big, {make_bzimage(), initrd, "", 1});
  EXPECT_EQ(limited.initrd_addr, 0x80000000u - 8192) << "below initrd_addr_max 0x7fffffff";
  BootSetup wide = load_kernel(big, {make_bzimage([] {
                                       BzImageOptions o;
                                       o.initrd_addr_max = 0xffffffff;
                                       return o;
                                     }()),
                                     initrd, "", 1});
  EXPECT_EQ(wide.initrd_addr, GuestMemory::kMmioHoleStart - 8192) << "below the MMIO hole";
  ElfBuilder pvh;
  pvh.add_pvh_note(kElfLoad);
  BootSetup p = load_kernel(big, {pvh.build(), initrd, "", 1});
  EXPECT_EQ(p.initrd_addr, GuestMemory::kMmioHoleStart - 8192);
  auto info = big.read_obj<hvm_start_info>(layout::kPvhStartInfo);
  EXPECT_EQ(info.memmap_entries, 4u) << "RAM above 4 GiB is in the map";
}

TEST(KernelLoader, RefusesAnInitrdThatDoesNotFit) {
  auto mem = GuestMemory::create(32 << 20);
  std::vector<uint8_t> huge(40 << 20, 1);
  EXPECT_CONTAINS(error_text([&] {
                    load_kernel(mem, {make_bzimage(), huge, "", 1});
                  }),
                  "initrd of 40 MiB does not fit in 32 MiB of guest RAM");
  // Fits in RAM, but not between the kernel (16 MiB + init_size) and the top.
  std::vector<uint8_t> large(20 << 20, 1);
  EXPECT_CONTAINS(error_text([&] {
                    load_kernel(mem, {make_bzimage(), large, "", 1});
                  }),
                  "initrd of 20 MiB does not fit in 32 MiB of guest RAM: 15 MiB are free");
}

TEST(KernelLoader, RefusesBadCommandLines) {
  auto mem = GuestMemory::create(32 << 20);
  std::string max(2047, 'a');
  EXPECT_NO_THROW(load_kernel(mem, {ElfBuilder().build(), {}, max, 1}));
  EXPECT_EQ(cmdline_at(mem, layout::kCmdline), max);
  EXPECT_CONTAINS(error_text([&] {
                    load_kernel(mem, {ElfBuilder().build(), {}, max + "a", 1});
                  }),
                  "command line of 2048 bytes is longer than the kernel's limit of 2047");
  auto short_limit = make_bzimage([] {
    BzImageOptions o;
    o.cmdline_size = 255;
    return o;
  }());
  EXPECT_CONTAINS(error_text([&] {
                    load_kernel(mem, {short_limit, {}, std::string(300, 'x'), 1});
                  }),
                  "limit of 255");
  EXPECT_CONTAINS(error_text([&] {
                    load_kernel(mem, {ElfBuilder().build(), {}, std::string("a\0b", 3), 1});
                  }),
                  "NUL");
}

TEST(KernelLoader, NamesTheKernelInItsErrors) {
  auto mem = GuestMemory::create(32 << 20);
  std::vector<uint8_t> junk(4096, 0x11);
  EXPECT_EQ(error_text([&] {
              load_kernel(mem, {junk, {}, "", 1, "/boot/junk"});
            }),
            "kernel image /boot/junk is neither an ELF vmlinux nor a bzImage");
  EXPECT_EQ(error_text([&] {
              load_kernel(mem, {junk, {}, "", 1});
            }),
            "kernel image is neither an ELF vmlinux nor a bzImage");
  ElfBuilder arm;
  arm.ehdr.e_machine = EM_AARCH64;
  EXPECT_EQ(error_text([&] {
              load_kernel(mem, {arm.build(), {}, "", 1, "vmlinux"});
            }),
            "kernel image vmlinux: ELF image is for machine 183, not x86-64");
  EXPECT_CONTAINS(error_text([&] {
                    load_kernel(mem, {{}, {}, "", 1, "empty"});
                  }),
                  "kernel image empty is empty");
  EXPECT_CONTAINS(error_text([&] {
                    load_kernel(mem, {ElfBuilder().build(), {}, "", 0});
                  }),
                  "not 0");
}

TEST(KernelLoader, RefusesAnElfLoadedAboveFourGiB) {
  auto mem = GuestMemory::create(uint64_t{5} << 30);
  ElfBuilder b;
  b.add_load(uint64_t{4} << 30, 0xffffffff90000000, {1}, 0x1000);
  EXPECT_CONTAINS(error_text([&] {
                    load_kernel(mem, {b.build(), {}, "", 1});
                  }),
                  "ELF segments end at 0x100001000, above the first 4 GiB");
}

void write_file(const std::filesystem::path& p, const std::vector<uint8_t>& bytes) {
  std::ofstream(p, std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes.data()),
             static_cast<std::streamsize>(bytes.size()));
}

TEST(KernelLoaderFiles, ReadsKernelAndInitrdAndNamesMissingFiles) {
  TempDir dir;
  auto mem = GuestMemory::create(64 << 20);
  ElfBuilder b;
  b.add_pvh_note(kElfLoad);
  write_file(dir.path() / "vmlinux", b.build());
  write_file(dir.path() / "initrd", std::vector<uint8_t>(5000, 7));
  BootSetup s =
      load_kernel_files(mem, {dir.path() / "vmlinux", dir.path() / "initrd", "console=hvc0", 1});
  EXPECT_EQ(s.mode, BootSetup::Mode::Pvh32);
  EXPECT_EQ(s.initrd_size, 5000u);
  auto missing = (dir.path() / "nope").string();
  EXPECT_CONTAINS(error_text([&] {
                    load_kernel_files(mem, {missing, "", "", 1});
                  }),
                  "cannot open guest kernel " + missing);
  EXPECT_CONTAINS(error_text([&] {
                    load_kernel_files(mem, {dir.path() / "vmlinux", missing, "", 1});
                  }),
                  "cannot open initrd " + missing);
  write_file(dir.path() / "junk", std::vector<uint8_t>(100, 1));
  auto junk = (dir.path() / "junk").string();
  EXPECT_EQ(error_text([&] {
              load_kernel_files(mem, {junk, "", "", 1});
            }),
            "kernel image " + junk + " is neither an ELF vmlinux nor a bzImage");
}

// The real guest kernel: the environment's, else the one this build made
// (a build configured without the guest kernel skips these tests).
std::string env_path(const char* name) {
  if (const char* v = std::getenv(name)) return v;
#ifdef VMRT_BUILT_VMLINUX
  if (std::string_view(name) == "VMRT_TEST_VMLINUX") return VMRT_BUILT_VMLINUX;
  if (std::string_view(name) == "VMRT_TEST_BZIMAGE") return VMRT_BUILT_BZIMAGE;
#endif
  return "";
}

TEST(RealGuestKernel, VmlinuxBootsThroughPvh) {
  std::string path = env_path("VMRT_TEST_VMLINUX");
  if (path.empty()) GTEST_SKIP() << "set VMRT_TEST_VMLINUX to build/guest-kernel/vmlinux";
  auto mem = GuestMemory::create(256 << 20);
  BootSetup s = load_kernel_files(mem, {path, "", "console=ttyS0", 2});
  EXPECT_EQ(s.mode, BootSetup::Mode::Pvh32) << "the guest config enables CONFIG_PVH";
  EXPECT_GE(s.entry, layout::kHighMemory);
  EXPECT_LT(s.entry, 0x4000000u);
  EXPECT_EQ(mem.read_obj<hvm_start_info>(s.boot_info).magic, kXenHvmStartMagic);
}

TEST(RealGuestKernel, BzImageBootsThroughTheSixtyFourBitProtocol) {
  std::string path = env_path("VMRT_TEST_BZIMAGE");
  if (path.empty()) GTEST_SKIP() << "set VMRT_TEST_BZIMAGE to build/guest-kernel/bzImage";
  auto mem = GuestMemory::create(256 << 20);
  std::vector<uint8_t> initrd(1 << 20, 0);
  TempDir dir;
  write_file(dir.path() / "initrd", initrd);
  BootSetup s = load_kernel_files(mem, {path, dir.path() / "initrd", "console=ttyS0", 1});
  EXPECT_EQ(s.mode, BootSetup::Mode::Linux64);
  auto zp = mem.read_obj<boot_params>(s.boot_info);
  EXPECT_GE(zp.hdr.version, 0x020c);
  EXPECT_EQ(s.entry, zp.hdr.code32_start + 0x200u);
  EXPECT_EQ(zp.hdr.ramdisk_image, s.initrd_addr);
}

}  // namespace
}  // namespace vmrt::vmm::boot
