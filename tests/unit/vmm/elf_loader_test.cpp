// ELF vmlinux loading from crafted images: valid layouts with and without the
// PVH note, and every malformed header a hostile image could carry.
#include "vmm/boot/elf_loader.h"

#include <elf.h>
#include <gtest/gtest.h>

#include <cstring>
#include <limits>
#include <vector>

#include "common/error.h"
#include "tests/support/error_text.h"
#include "vmm/boot/pvh_abi.h"

namespace vmrt::vmm::boot {
namespace {

// A minimal vmlinux-like image: one PT_LOAD at 16 MiB (virtual address in
// the kernel's high half), optionally a PT_NOTE with the PVH entry.
struct ElfBuilder {
  Elf64_Ehdr eh{};
  std::vector<Elf64_Phdr> phdrs;
  std::vector<uint8_t> payload = std::vector<uint8_t>(64, 0x90);

  ElfBuilder() {
    std::memcpy(eh.e_ident, ELFMAG, SELFMAG);
    eh.e_ident[EI_CLASS] = ELFCLASS64;
    eh.e_ident[EI_DATA] = ELFDATA2LSB;
    eh.e_type = ET_EXEC;
    eh.e_machine = EM_X86_64;
    eh.e_phentsize = sizeof(Elf64_Phdr);
    eh.e_phoff = sizeof(Elf64_Ehdr);
    eh.e_entry = 0x1000000;
    Elf64_Phdr load{};
    load.p_type = PT_LOAD;
    load.p_paddr = 0x1000000;
    load.p_vaddr = 0xffffffff81000000;
    load.p_filesz = payload.size();
    load.p_memsz = 0x2000;  // with bss
    phdrs.push_back(load);
  }
  void add_pvh_note(uint32_t entry) {
    Elf64_Phdr note{};
    note.p_type = PT_NOTE;
    phdrs.push_back(note);
    pvh_entry = entry;
  }
  std::vector<uint8_t> build() {
    eh.e_phnum = static_cast<uint16_t>(phdrs.size());
    uint64_t data_off = sizeof eh + phdrs.size() * sizeof(Elf64_Phdr);
    std::vector<uint8_t> note;
    if (pvh_entry) {
      Elf64_Nhdr nh{4, 4, kXenElfNotePhys32Entry};
      note.resize(sizeof nh + 8);
      std::memcpy(note.data(), &nh, sizeof nh);
      std::memcpy(note.data() + sizeof nh, "Xen", 4);
      std::memcpy(note.data() + sizeof nh + 4, &*pvh_entry, 4);
    }
    for (auto& ph : phdrs) {
      if (ph.p_type == PT_LOAD && ph.p_offset == 0) ph.p_offset = data_off;
      if (ph.p_type == PT_NOTE) {
        ph.p_offset = data_off + payload.size();
        ph.p_filesz = note.size();
      }
    }
    std::vector<uint8_t> img(sizeof eh);
    std::memcpy(img.data(), &eh, sizeof eh);
    for (auto& ph : phdrs) {
      auto p = reinterpret_cast<const uint8_t*>(&ph);
      img.insert(img.end(), p, p + sizeof ph);
    }
    img.insert(img.end(), payload.begin(), payload.end());
    img.insert(img.end(), note.begin(), note.end());
    return img;
  }
  std::optional<uint32_t> pvh_entry;
};

std::string error_of(const GuestMemory& mem, const std::vector<uint8_t>& img) {
  return test::error_text([&] { load_elf(mem, img); });
}

struct ElfLoader : ::testing::Test {
  GuestMemory mem = GuestMemory::create(64 << 20);
};

TEST_F(ElfLoader, LoadsSegmentsZeroesBssAndFindsThePvhEntry) {
  mem.fill(0x1000000, 0x2000, 0xcc);
  ElfBuilder b;
  b.add_pvh_note(0x1000123);
  LoadedElf elf = load_elf(mem, b.build());
  ASSERT_TRUE(elf.pvh_entry);
  EXPECT_EQ(*elf.pvh_entry, 0x1000123u);
  EXPECT_EQ(elf.entry64, 0x1000000u);
  EXPECT_EQ(elf.end, 0x1002000u);
  EXPECT_EQ(mem.read_obj<uint8_t>(0x1000000), 0x90);
  EXPECT_EQ(mem.read_obj<uint8_t>(0x1000000 + 64), 0) << "bss is zeroed";
  EXPECT_EQ(mem.read_obj<uint8_t>(0x1001fff), 0);
}

TEST_F(ElfLoader, WithoutTheNoteTheVirtualEntryMapsToPhysical) {
  ElfBuilder b;
  b.eh.e_entry = 0xffffffff81000010;
  LoadedElf elf = load_elf(mem, b.build());
  EXPECT_FALSE(elf.pvh_entry);
  EXPECT_EQ(elf.entry64, 0x1000010u);
}

TEST_F(ElfLoader, RejectsTruncatedAndForeignImages) {
  auto img = ElfBuilder().build();
  EXPECT_NE(error_of(mem, std::vector<uint8_t>(img.begin(), img.begin() + 20))
                .find("shorter than its header"),
            std::string::npos);
  auto bad_magic = img;
  bad_magic[1] = 'X';
  EXPECT_NE(error_of(mem, bad_magic).find("bad magic"), std::string::npos);
  ElfBuilder arm;
  arm.eh.e_machine = EM_AARCH64;
  EXPECT_NE(error_of(mem, arm.build()).find("not x86-64"), std::string::npos);
  ElfBuilder rel;
  rel.eh.e_type = ET_REL;
  EXPECT_NE(error_of(mem, rel.build()).find("not an executable"), std::string::npos);
}

TEST_F(ElfLoader, RejectsHeadersPointingOutsideTheImage) {
  ElfBuilder phoff;
  phoff.eh.e_phoff = std::numeric_limits<uint64_t>::max() - 8;
  EXPECT_NE(error_of(mem, phoff.build()).find("program headers lie outside"), std::string::npos);
  ElfBuilder many;
  many.eh.e_phnum = 60000;
  auto img = many.build();
  // build() resets e_phnum: patch it back in the bytes.
  uint16_t n = 60000;
  std::memcpy(img.data() + offsetof(Elf64_Ehdr, e_phnum), &n, 2);
  EXPECT_NE(error_of(mem, img).find("program headers"), std::string::npos);
  ElfBuilder past_eof;
  past_eof.phdrs[0].p_offset = 1 << 20;
  EXPECT_NE(error_of(mem, past_eof.build()).find("outside the image"), std::string::npos);
  ElfBuilder wrap;
  wrap.phdrs[0].p_offset = std::numeric_limits<uint64_t>::max();
  wrap.phdrs[0].p_filesz = 16;
  EXPECT_NE(error_of(mem, wrap.build()).find("outside the image"), std::string::npos);
}

TEST_F(ElfLoader, RejectsSegmentsThatDoNotFitOrOverlap) {
  ElfBuilder fs;
  fs.phdrs[0].p_memsz = 8;
  EXPECT_NE(error_of(mem, fs.build()).find("filesz"), std::string::npos);
  ElfBuilder big;
  big.phdrs[0].p_memsz = uint64_t{1} << 40;
  EXPECT_NE(error_of(mem, big.build()).find("does not fit in guest RAM"), std::string::npos);
  ElfBuilder huge_addr;
  huge_addr.phdrs[0].p_paddr = std::numeric_limits<uint64_t>::max() - 0x100;
  EXPECT_NE(error_of(mem, huge_addr.build()).find("does not fit in guest RAM"), std::string::npos);
  ElfBuilder low;
  low.phdrs[0].p_paddr = 0x7000;
  EXPECT_NE(error_of(mem, low.build()).find("below 1 MiB"), std::string::npos);
  ElfBuilder overlap;
  Elf64_Phdr second = overlap.phdrs[0];
  second.p_paddr = 0x1001000;
  second.p_vaddr = 0xffffffff81001000;
  overlap.phdrs.push_back(second);
  EXPECT_NE(error_of(mem, overlap.build()).find("overlap"), std::string::npos);
}

TEST_F(ElfLoader, RejectsAnEntryOutsideEverySegmentAndBadNotes) {
  ElfBuilder entry;
  entry.eh.e_entry = 0x5000000;
  EXPECT_NE(error_of(mem, entry.build()).find("entry point"), std::string::npos);
  ElfBuilder note;
  note.add_pvh_note(0x1000000);
  auto img = note.build();
  // Make the note claim a descriptor far larger than its segment.
  size_t note_off = img.size() - (sizeof(Elf64_Nhdr) + 8);
  uint32_t huge = 0xfffffff0;
  std::memcpy(img.data() + note_off + offsetof(Elf64_Nhdr, n_descsz), &huge, 4);
  EXPECT_NE(error_of(mem, img).find("note"), std::string::npos);
}

}  // namespace
}  // namespace vmrt::vmm::boot
