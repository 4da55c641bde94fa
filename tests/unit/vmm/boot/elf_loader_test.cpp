// ELF vmlinux loading from crafted images: valid layouts with and without the
// PVH note, and every malformed header a hostile image could carry.
#include "vmm/boot/elf_loader.h"

#include <gtest/gtest.h>

#include <limits>

#include "common/error.h"
#include "tests/support/error_text.h"
#include "tests/unit/vmm/boot/boot_images.h"

namespace vmrt::vmm::boot {
namespace {

using test::ElfBuilder;
using test::kElfLoad;
using test::kElfVirtual;
using test::patch_phdr;
using test::poke;
constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();

struct ElfLoader : ::testing::Test {
  GuestMemory mem = GuestMemory::create(64 << 20);
  std::string error_of(const std::vector<uint8_t>& img) {
    return vmrt::test::error_text([&] { load_elf(mem, img); });
  }
};

#define EXPECT_ERROR(img, text) EXPECT_PRED_FORMAT2(::testing::IsSubstring, text, error_of(img))

TEST_F(ElfLoader, LoadsSegmentsZeroesBssAndFindsThePvhEntry) {
  mem.fill(kElfLoad, 0x3000, 0xcc);  // stale bytes where the bss goes
  ElfBuilder b;
  b.add_pvh_note(kElfLoad + 0x123);
  ASSERT_TRUE(is_elf(b.build()));
  LoadedElf elf = load_elf(mem, b.build());
  ASSERT_TRUE(elf.pvh_entry);
  EXPECT_EQ(*elf.pvh_entry, kElfLoad + 0x123);
  EXPECT_EQ(elf.entry64, kElfLoad);
  EXPECT_EQ(elf.start, kElfLoad);
  EXPECT_EQ(elf.end, kElfLoad + 0x2000);
  EXPECT_EQ(mem.read_obj<uint8_t>(kElfLoad), 0x90);
  EXPECT_EQ(mem.read_obj<uint8_t>(kElfLoad + 63), 0x90);
  EXPECT_EQ(mem.read_obj<uint8_t>(kElfLoad + 64), 0) << "bss is zeroed";
  EXPECT_EQ(mem.read_obj<uint8_t>(kElfLoad + 0x1fff), 0);
  EXPECT_EQ(mem.read_obj<uint8_t>(kElfLoad + 0x2000), 0xcc) << "nothing past memsz";
}

TEST_F(ElfLoader, ReadsAnEightBytePvhNoteAsLinuxEmitsIt) {
  ElfBuilder b;
  b.add_pvh_note(kElfLoad + 0x500, 8);
  LoadedElf elf = load_elf(mem, b.build());
  ASSERT_TRUE(elf.pvh_entry);
  EXPECT_EQ(*elf.pvh_entry, kElfLoad + 0x500);
}

TEST_F(ElfLoader, LoadsSeveralSegmentsInAnyOrder) {
  ElfBuilder b;
  b.add_load(0x1800000, 0xffffffff81800000, std::vector<uint8_t>(16, 0x11), 0x1000);
  b.add_load(0x1400000, 0, std::vector<uint8_t>(8, 0x22), 8);  // percpu-like: vaddr 0
  LoadedElf elf = load_elf(mem, b.build());
  EXPECT_EQ(elf.start, kElfLoad);
  EXPECT_EQ(elf.end, 0x1801000u);
  EXPECT_EQ(mem.read_obj<uint8_t>(0x1800000), 0x11);
  EXPECT_EQ(mem.read_obj<uint8_t>(0x1400007), 0x22);
  EXPECT_FALSE(elf.pvh_entry);
}

TEST_F(ElfLoader, WithoutTheNoteTheVirtualEntryMapsToPhysical) {
  ElfBuilder b;
  b.ehdr.e_entry = kElfVirtual + 0x10;
  LoadedElf elf = load_elf(mem, b.build());
  EXPECT_FALSE(elf.pvh_entry);
  EXPECT_EQ(elf.entry64, kElfLoad + 0x10);
}

TEST_F(ElfLoader, RejectsTruncatedAndForeignImages) {
  auto img = ElfBuilder().build();
  EXPECT_ERROR(std::vector<uint8_t>(img.begin(), img.begin() + 20),
               "ELF image of 20 bytes is shorter than its header (64 bytes)");
  EXPECT_ERROR(std::vector<uint8_t>(), "shorter than its");
  auto bad_magic = img;
  bad_magic[1] = 'X';
  EXPECT_ERROR(bad_magic, "bad magic");
  EXPECT_FALSE(is_elf(bad_magic));
  auto elf32 = img;
  elf32[EI_CLASS] = ELFCLASS32;
  EXPECT_ERROR(elf32, "not 64-bit");
  auto big_endian = img;
  big_endian[EI_DATA] = ELFDATA2MSB;
  EXPECT_ERROR(big_endian, "not little-endian");
  ElfBuilder arm;
  arm.ehdr.e_machine = EM_AARCH64;
  EXPECT_ERROR(arm.build(), "for machine 183, not x86-64");
  ElfBuilder rel;
  rel.ehdr.e_type = ET_REL;
  EXPECT_ERROR(rel.build(), "not an executable");
  ElfBuilder phentsize;
  phentsize.ehdr.e_phentsize = 32;
  EXPECT_ERROR(phentsize.build(), "program header size 32");
}

TEST_F(ElfLoader, RejectsProgramHeadersOutsideTheImage) {
  ElfBuilder phoff;
  phoff.ehdr.e_phoff = kMax - 8;  // offset + table size would wrap
  EXPECT_ERROR(phoff.build(), "program headers at offset 0xfffffffffffffff7 lie outside");
  auto img = ElfBuilder().build();
  poke<uint16_t>(img, offsetof(Elf64_Ehdr, e_phnum), 3);  // table runs past EOF
  EXPECT_ERROR(std::vector<uint8_t>(img.begin(), img.begin() + 64 + 2 * 56), "lie outside");
  poke<uint16_t>(img, offsetof(Elf64_Ehdr, e_phnum), 60000);
  EXPECT_ERROR(img, "60000 program headers");
  poke<uint16_t>(img, offsetof(Elf64_Ehdr, e_phnum), 0);
  EXPECT_ERROR(img, "0 program headers");
}

TEST_F(ElfLoader, RejectsSegmentsOutsideTheImage) {
  auto img = ElfBuilder().build();
  auto past_eof = img;
  patch_phdr(past_eof, 0, [](Elf64_Phdr& ph) { ph.p_offset = 1 << 20; });
  EXPECT_ERROR(past_eof, "segment 0 at offset 0x100000+0x40 lies outside");
  auto too_long = img;
  patch_phdr(too_long, 0, [](Elf64_Phdr& ph) { ph.p_filesz = 0x1000; });
  EXPECT_ERROR(too_long, "lies outside");
  auto wrap = img;
  patch_phdr(wrap, 0, [](Elf64_Phdr& ph) {
    ph.p_offset = kMax;
    ph.p_filesz = 16;
  });
  EXPECT_ERROR(wrap, "lies outside");
  auto huge = img;
  patch_phdr(huge, 0, [](Elf64_Phdr& ph) {
    ph.p_offset = 0x100;
    ph.p_filesz = kMax - 0x80;  // offset + filesz wraps to a small number
    ph.p_memsz = kMax;
  });
  EXPECT_ERROR(huge, "lies outside");
}

TEST_F(ElfLoader, RejectsSegmentsThatDoNotFitOrOverlap) {
  ElfBuilder filesz;
  filesz.segments[0].phdr.p_memsz = 8;
  EXPECT_ERROR(filesz.build(), "filesz 0x40 > memsz 0x8");
  ElfBuilder big;
  big.segments[0].phdr.p_memsz = uint64_t{1} << 40;
  EXPECT_ERROR(big.build(), "does not fit in 64 MiB of guest RAM");
  ElfBuilder past_ram;
  past_ram.segments[0].phdr.p_paddr = (64 << 20) - 0x1000;  // starts in RAM, ends past it
  EXPECT_ERROR(past_ram.build(), "does not fit in 64 MiB of guest RAM");
  ElfBuilder wrap_addr;
  wrap_addr.segments[0].phdr.p_paddr = kMax - 0x100;
  EXPECT_ERROR(wrap_addr.build(), "does not fit in");
  ElfBuilder low;
  low.segments[0].phdr.p_paddr = 0x7000;  // over the zero page
  EXPECT_ERROR(low.build(), "overlaps the boot area below 1 MiB");
  ElfBuilder overlap;
  overlap.add_load(kElfLoad + 0x1000, kElfVirtual + 0x1000, {1, 2, 3}, 0x100);
  EXPECT_ERROR(overlap.build(), "ELF segments at 0x1000000+0x2000 and 0x1001000 overlap");
  ElfBuilder none;
  none.segments[0].phdr.p_type = PT_NULL;
  EXPECT_ERROR(none.build(), "no loadable segment");
}

TEST_F(ElfLoader, RejectsEntryPointsOutsideEverySegment) {
  ElfBuilder entry;
  entry.ehdr.e_entry = 0x5000000;
  EXPECT_ERROR(entry.build(), "entry point 0x5000000 is in no loadable segment");
  ElfBuilder pvh;
  pvh.add_pvh_note(0x3000000);
  EXPECT_ERROR(pvh.build(), "PVH entry point 0x3000000 is in no loadable segment");
  ElfBuilder pvh_high;
  pvh_high.add_pvh_note(uint64_t{1} << 33, 8);
  EXPECT_ERROR(pvh_high.build(), "above 4 GiB");
}

TEST_F(ElfLoader, RejectsMalformedNotes) {
  ElfBuilder b;
  b.add_pvh_note(kElfLoad);
  const auto img = b.build();
  // The note segment is last; its Xen note follows a 36-byte GNU note.
  Elf64_Phdr note;
  std::memcpy(&note, img.data() + 64 + 56, sizeof note);
  const size_t xen = note.p_offset + 12 + 4 + 20;

  auto huge_desc = img;
  poke<uint32_t>(huge_desc, xen + offsetof(Elf64_Nhdr, n_descsz), 0xfffffff0);
  EXPECT_ERROR(huge_desc, "runs past its segment");
  auto huge_name = img;
  poke<uint32_t>(huge_name, note.p_offset + offsetof(Elf64_Nhdr, n_namesz), 0xffffffff);
  EXPECT_ERROR(huge_name, "runs past its segment");
  auto odd_size = img;
  poke<uint32_t>(odd_size, xen + offsetof(Elf64_Nhdr, n_descsz), 2);
  EXPECT_ERROR(odd_size, "2-byte value");
  auto outside = img;
  patch_phdr(outside, 1, [](Elf64_Phdr& ph) { ph.p_offset = kMax - 4; });
  EXPECT_ERROR(outside, "note segment at offset");
  // A truncated note header at the end is padding, not an error.
  auto short_tail = img;
  patch_phdr(short_tail, 1, [](Elf64_Phdr& ph) { ph.p_filesz = 36 + 8; });
  EXPECT_FALSE(load_elf(mem, short_tail).pvh_entry);
}

}  // namespace
}  // namespace vmrt::vmm::boot
