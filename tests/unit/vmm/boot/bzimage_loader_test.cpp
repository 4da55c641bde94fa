// bzImage loading for the 64-bit boot protocol: header checks, placement and
// bounds against the file and guest RAM.
#include "vmm/boot/bzimage_loader.h"

#include <gtest/gtest.h>

#include "common/error.h"
#include "tests/support/error_text.h"
#include "tests/unit/vmm/boot/boot_images.h"

namespace vmrt::vmm::boot {
namespace {

using test::BzImageOptions;
using test::make_bzimage;

struct BzImageLoader : ::testing::Test {
  GuestMemory mem = GuestMemory::create(64 << 20);
  std::string error_of(const std::vector<uint8_t>& img) {
    return vmrt::test::error_text([&] { load_bzimage(mem, img); });
  }
  static std::vector<uint8_t> with(void (*edit)(BzImageOptions&)) {
    BzImageOptions o;
    edit(o);
    return make_bzimage(o);
  }
};

#define EXPECT_ERROR(img, text) EXPECT_PRED_FORMAT2(::testing::IsSubstring, text, error_of(img))

TEST_F(BzImageLoader, LoadsTheKernelAtItsPreferredAddress) {
  auto img = make_bzimage();
  ASSERT_TRUE(is_bzimage(img));
  LoadedBzImage bz = load_bzimage(mem, img);
  EXPECT_EQ(bz.load_addr, 0x1000000u);
  EXPECT_EQ(bz.entry64, 0x1000200u);
  EXPECT_EQ(bz.end, 0x1000000u + 0x100000) << "the kernel runs there and needs init_size";
  EXPECT_EQ(bz.header.code32_start, 0x1000000u) << "tells the kernel where it was loaded";
  EXPECT_EQ(bz.header.version, 0x020f);
  EXPECT_EQ(mem.read_obj<uint8_t>(0x1000000), 0xaa) << "the protected-mode kernel, not setup";
  EXPECT_EQ(mem.read_obj<uint8_t>(bz.entry64), 0xbb);
}

TEST_F(BzImageLoader, ZeroSetupSectsMeansFour) {
  auto img = with([](BzImageOptions& o) { o.setup_sects = 0; });
  LoadedBzImage bz = load_bzimage(mem, img);
  EXPECT_EQ(mem.read_obj<uint8_t>(bz.load_addr), 0xaa);
}

TEST_F(BzImageLoader, WithoutAPreferredAddressLoadsAtOneMiB) {
  auto img = with([](BzImageOptions& o) { o.pref_address = 0; });
  LoadedBzImage bz = load_bzimage(mem, img);
  EXPECT_EQ(bz.load_addr, 0x100000u);
  EXPECT_EQ(bz.entry64, 0x100200u);
  // A relocatable kernel runs at its load address rounded up to 2 MiB.
  EXPECT_EQ(bz.end, 0x200000u + 0x100000);
}

TEST_F(BzImageLoader, RejectsBadHeaders) {
  auto no_flag = make_bzimage();
  no_flag[0x1fe] = 0;
  EXPECT_FALSE(is_bzimage(no_flag));
  EXPECT_ERROR(no_flag, "no 0xAA55 boot flag");
  auto no_hdrs = make_bzimage();
  no_hdrs[0x202] = 'X';
  EXPECT_ERROR(no_hdrs, "HdrS");
  EXPECT_ERROR(with([](BzImageOptions& o) { o.version = 0x0206; }),
               "boot protocol 2.06 is older than 2.12");
  EXPECT_ERROR(with([](BzImageOptions& o) { o.xloadflags = 0; }), "XLF_KERNEL_64");
  EXPECT_ERROR(with([](BzImageOptions& o) { o.loadflags = 0; }), "zImage");
  EXPECT_ERROR(with([](BzImageOptions& o) { o.kernel_alignment = 0x300000; }),
               "kernel_alignment 0x300000 is not a power of two");
  EXPECT_ERROR(with([](BzImageOptions& o) { o.init_size = 0; }), "no init_size");
}

TEST_F(BzImageLoader, RejectsTruncatedImages) {
  auto img = make_bzimage();
  EXPECT_ERROR(std::vector<uint8_t>(img.begin(), img.begin() + 0x210),
               "bzImage of 528 bytes is shorter than its setup header");
  EXPECT_FALSE(is_bzimage(std::vector<uint8_t>(img.begin(), img.begin() + 0x210)));
  EXPECT_ERROR(std::vector<uint8_t>(img.begin(), img.begin() + 5 * 512),
               "no protected-mode kernel after its 4 setup sectors");
  EXPECT_ERROR(std::vector<uint8_t>(img.begin(), img.end() - 16),
               "truncated: its header promises a 4096-byte kernel, the file holds 4080");
  EXPECT_ERROR(with([](BzImageOptions& o) { o.kernel_size = 0x100; }),
               "ends before its 64-bit entry");
  // setup_sects = 255 puts the kernel past the end of this small file.
  EXPECT_ERROR(with([](BzImageOptions& o) {
                 o.setup_sects = 255;
                 o.kernel_size = 0;
               }),
               "no protected-mode kernel after its 255 setup sectors");
}

TEST_F(BzImageLoader, RejectsKernelsThatDoNotFitInRam) {
  auto small = GuestMemory::create(16 << 20);
  auto img = make_bzimage();  // runs at 16 MiB
  EXPECT_PRED_FORMAT2(::testing::IsSubstring, "needs 1 MiB of RAM at 0x1000000",
                      vmrt::test::error_text([&] { load_bzimage(small, img); }));
  EXPECT_ERROR(with([](BzImageOptions& o) { o.init_size = 60 << 20; }), "needs 60 MiB");
  EXPECT_ERROR(with([](BzImageOptions& o) { o.pref_address = uint64_t{1} << 40; }),
               "more than 64 MiB of guest RAM");
  EXPECT_ERROR(with([](BzImageOptions& o) { o.pref_address = 0xffffffffffff0000; }),
               "more than 64 MiB");
}

}  // namespace
}  // namespace vmrt::vmm::boot
