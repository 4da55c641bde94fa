#pragma once
// Crafted kernel images for the boot loader tests: a vmlinux-like ELF (with
// or without the PVH note) and a bzImage, built valid and then corrupted
// field by field by the tests.

#include <asm/bootparam.h>
#include <elf.h>

#include <cstdint>
#include <cstring>
#include <functional>
#include <optional>
#include <vector>

namespace vmrt::vmm::test {

// Where the default segment of ElfBuilder goes, like a real vmlinux.
constexpr uint64_t kElfLoad = 0x1000000;
constexpr uint64_t kElfVirtual = 0xffffffff81000000;

struct ElfSegment {
  Elf64_Phdr phdr;  // p_offset and p_filesz are set by build()
  std::vector<uint8_t> data;
};

class ElfBuilder {
 public:
  // One PT_LOAD of 64 bytes of 0x90 plus bss up to 0x2000, at kElfLoad
  // (virtual kElfVirtual); e_entry is kElfLoad.
  ElfBuilder();

  Elf64_Ehdr ehdr{};
  std::vector<ElfSegment> segments;

  ElfSegment& add_load(uint64_t paddr, uint64_t vaddr, std::vector<uint8_t> data, uint64_t memsz);
  // A PT_NOTE holding a GNU note first (so the walk must skip one), then
  // Xen's PHYS32_ENTRY with a `value_size`-byte (4 or 8) value.
  void add_pvh_note(uint64_t entry, uint32_t value_size = 4);

  // Header, program headers (at offset 64 whatever ehdr.e_phoff says), then
  // each segment's bytes in order.
  std::vector<uint8_t> build() const;
};

// Reads program header `index` of a built image, lets `edit` change it and
// writes it back: for corrupting a valid image.
void patch_phdr(std::vector<uint8_t>& image, unsigned index,
                const std::function<void(Elf64_Phdr&)>& edit);

template <typename T>
void poke(std::vector<uint8_t>& image, size_t offset, T value) {
  std::memcpy(image.data() + offset, &value, sizeof value);
}

struct BzImageOptions {
  uint16_t version = 0x020f;
  uint8_t loadflags = LOADED_HIGH;
  uint16_t xloadflags = XLF_KERNEL_64;
  uint8_t setup_sects = 4;
  uint64_t pref_address = 0x1000000;
  uint32_t init_size = 0x100000;
  uint8_t relocatable = 1;
  uint32_t kernel_alignment = 0x200000;
  uint32_t initrd_addr_max = 0x7fffffff;
  uint32_t cmdline_size = 2047;
  uint32_t kernel_size = 0x1000;  // protected-mode kernel bytes
};

// A bzImage: boot sector and setup sectors with the header at 0x1f1, then a
// protected-mode kernel whose first byte is 0xaa and whose byte 0x200 (the
// 64-bit entry) is 0xbb.
std::vector<uint8_t> make_bzimage(const BzImageOptions& options = {});

}  // namespace vmrt::vmm::test
