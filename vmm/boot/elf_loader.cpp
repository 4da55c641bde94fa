#include "vmm/boot/elf_loader.h"

#include <elf.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "common/error.h"
#include "vmm/boot/layout.h"
#include "vmm/boot/pvh_abi.h"

namespace vmrt::vmm::boot {

namespace {

constexpr uint64_t kMaxPhdrs = 64;

// [off, off + len) lies inside a buffer of `size` bytes, with no overflow.
bool within(uint64_t off, uint64_t len, uint64_t size) { return off <= size && len <= size - off; }

template <typename T>
T read_at(std::span<const uint8_t> image, uint64_t off) {
  T v;
  std::memcpy(&v, image.data() + off, sizeof v);
  return v;
}

std::optional<uint32_t> find_pvh_note(std::span<const uint8_t> image, const Elf64_Phdr& ph) {
  if (!within(ph.p_offset, ph.p_filesz, image.size()))
    fail("ELF note segment lies outside the image");
  uint64_t off = ph.p_offset;
  uint64_t end = ph.p_offset + ph.p_filesz;
  auto align4 = [](uint64_t v) { return (v + 3) & ~uint64_t{3}; };
  while (end - off >= sizeof(Elf64_Nhdr)) {
    auto nh = read_at<Elf64_Nhdr>(image, off);
    uint64_t name_off = off + sizeof(Elf64_Nhdr);
    uint64_t desc_off = name_off + align4(nh.n_namesz);
    uint64_t next = desc_off + align4(nh.n_descsz);
    if (nh.n_namesz > end || nh.n_descsz > end || next > end)
      fail("ELF note runs past its segment");
    if (nh.n_type == kXenElfNotePhys32Entry && nh.n_namesz == 4 &&
        std::memcmp(image.data() + name_off, "Xen", 4) == 0) {
      if (nh.n_descsz == 4) return read_at<uint32_t>(image, desc_off);
      if (nh.n_descsz == 8) {
        uint64_t entry = read_at<uint64_t>(image, desc_off);
        if (entry > UINT32_MAX) fail("PVH entry point {:#x} is above 4 GiB", entry);
        return static_cast<uint32_t>(entry);
      }
      fail("PVH entry note has a {}-byte value", nh.n_descsz);
    }
    off = next;
  }
  return std::nullopt;
}

}  // namespace

bool is_elf(std::span<const uint8_t> image) {
  return image.size() >= SELFMAG && std::memcmp(image.data(), ELFMAG, SELFMAG) == 0;
}

LoadedElf load_elf(const GuestMemory& mem, std::span<const uint8_t> image) {
  if (image.size() < sizeof(Elf64_Ehdr))
    fail("ELF image of {} bytes is shorter than its header", image.size());
  auto eh = read_at<Elf64_Ehdr>(image, 0);
  if (std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0) fail("not an ELF image (bad magic)");
  if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB)
    fail("ELF image is not 64-bit little-endian");
  if (eh.e_machine != EM_X86_64) fail("ELF image is for machine {}, not x86-64", eh.e_machine);
  if (eh.e_type != ET_EXEC) fail("ELF image is not an executable (type {})", eh.e_type);
  if (eh.e_phentsize != sizeof(Elf64_Phdr))
    fail("ELF program header size {} is wrong", eh.e_phentsize);
  if (eh.e_phnum == 0 || eh.e_phnum > kMaxPhdrs)
    fail("ELF image has {} program headers", eh.e_phnum);
  if (!within(eh.e_phoff, uint64_t{eh.e_phnum} * sizeof(Elf64_Phdr), image.size()))
    fail("ELF program headers lie outside the image");

  std::vector<Elf64_Phdr> loads;
  std::optional<uint32_t> pvh;
  for (unsigned i = 0; i < eh.e_phnum; ++i) {
    auto ph = read_at<Elf64_Phdr>(image, eh.e_phoff + i * sizeof(Elf64_Phdr));
    if (ph.p_type == PT_NOTE && !pvh) pvh = find_pvh_note(image, ph);
    if (ph.p_type != PT_LOAD) continue;
    if (ph.p_filesz > ph.p_memsz)
      fail("ELF segment {} has filesz {:#x} > memsz {:#x}", i, ph.p_filesz, ph.p_memsz);
    if (!within(ph.p_offset, ph.p_filesz, image.size()))
      fail("ELF segment {} lies outside the image", i);
    if (ph.p_paddr < layout::kHighMemory)
      fail("ELF segment {} at {:#x} overlaps the boot area below 1 MiB", i, ph.p_paddr);
    if (!mem.contains(ph.p_paddr, ph.p_memsz))
      fail("ELF segment {} at {:#x}+{:#x} does not fit in guest RAM", i, ph.p_paddr, ph.p_memsz);
    loads.push_back(ph);
  }
  if (loads.empty()) fail("ELF image has no loadable segment");
  std::sort(loads.begin(), loads.end(), [](auto& a, auto& b) { return a.p_paddr < b.p_paddr; });
  for (size_t i = 1; i < loads.size(); ++i)
    if (loads[i - 1].p_paddr + loads[i - 1].p_memsz > loads[i].p_paddr)
      fail("ELF segments at {:#x} and {:#x} overlap", loads[i - 1].p_paddr, loads[i].p_paddr);

  LoadedElf out{0, pvh, 0};
  bool entry_found = false;
  for (const Elf64_Phdr& ph : loads) {
    mem.write(ph.p_paddr, image.subspan(ph.p_offset, ph.p_filesz));
    mem.fill(ph.p_paddr + ph.p_filesz, ph.p_memsz - ph.p_filesz, 0);
    out.end = std::max(out.end, ph.p_paddr + ph.p_memsz);
    // vmlinux links e_entry as a physical address (phys_startup_64); other
    // images may give the virtual one, which the segment maps to physical.
    if (!entry_found && eh.e_entry >= ph.p_paddr && eh.e_entry - ph.p_paddr < ph.p_memsz) {
      out.entry64 = eh.e_entry;
      entry_found = true;
    } else if (!entry_found && eh.e_entry >= ph.p_vaddr && eh.e_entry - ph.p_vaddr < ph.p_memsz) {
      out.entry64 = ph.p_paddr + (eh.e_entry - ph.p_vaddr);
      entry_found = true;
    }
  }
  if (!entry_found) fail("ELF entry point {:#x} is in no loadable segment", eh.e_entry);
  if (pvh && !mem.contains(*pvh, 1)) fail("PVH entry point {:#x} is outside guest RAM", *pvh);
  return out;
}

}  // namespace vmrt::vmm::boot
