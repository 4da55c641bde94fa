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

// vmlinux has about 5; a cap keeps a hostile header from making us walk 65535.
constexpr uint64_t kMaxPhdrs = 64;

// [off, off + len) lies inside a buffer of `size` bytes; no sum can overflow.
bool within(uint64_t off, uint64_t len, uint64_t size) { return off <= size && len <= size - off; }

// Callers check `within` first.
template <typename T>
T read_at(std::span<const uint8_t> bytes, uint64_t off) {
  T v;
  std::memcpy(&v, bytes.data() + off, sizeof v);
  return v;
}

uint64_t align_up(uint64_t v, uint64_t align) { return (v + align - 1) & ~(align - 1); }

// Walks the notes of one PT_NOTE segment for Xen's PHYS32_ENTRY.
std::optional<uint32_t> find_pvh_note(std::span<const uint8_t> image, const Elf64_Phdr& ph) {
  if (!within(ph.p_offset, ph.p_filesz, image.size()))
    fail("ELF note segment at offset {:#x}+{:#x} lies outside the {}-byte image", ph.p_offset,
         ph.p_filesz, image.size());
  std::span<const uint8_t> notes = image.subspan(ph.p_offset, ph.p_filesz);
  // Names and values are padded to 4 bytes (8 when the segment says so).
  const uint64_t align = ph.p_align == 8 ? 8 : 4;
  uint64_t off = 0;
  while (notes.size() - off >= sizeof(Elf64_Nhdr)) {
    auto nh = read_at<Elf64_Nhdr>(notes, off);
    // 32-bit sizes plus a bounded offset: these sums fit in 64 bits.
    uint64_t name_off = off + sizeof(Elf64_Nhdr);
    uint64_t desc_off = name_off + align_up(nh.n_namesz, align);
    uint64_t next = desc_off + align_up(nh.n_descsz, align);
    if (!within(name_off, nh.n_namesz, notes.size()) ||
        !within(desc_off, nh.n_descsz, notes.size()))
      fail("ELF note at offset {:#x} runs past its segment", ph.p_offset + off);
    if (nh.n_type == kXenElfNotePhys32Entry && nh.n_namesz == 4 &&
        std::memcmp(notes.data() + name_off, "Xen", 4) == 0) {
      // Linux emits the value as .long on some versions and .quad on others.
      if (nh.n_descsz == 4) return read_at<uint32_t>(notes, desc_off);
      if (nh.n_descsz == 8) {
        uint64_t entry = read_at<uint64_t>(notes, desc_off);
        if (entry > UINT32_MAX) fail("PVH entry point {:#x} is above 4 GiB", entry);
        return static_cast<uint32_t>(entry);
      }
      fail("PVH entry note has a {}-byte value, not 4 or 8", nh.n_descsz);
    }
    off = std::min<uint64_t>(next, notes.size());
  }
  return std::nullopt;
}

Elf64_Ehdr checked_header(std::span<const uint8_t> image) {
  if (image.size() < sizeof(Elf64_Ehdr))
    fail("ELF image of {} bytes is shorter than its header ({} bytes)", image.size(),
         sizeof(Elf64_Ehdr));
  auto eh = read_at<Elf64_Ehdr>(image, 0);
  if (std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0) fail("not an ELF image (bad magic)");
  if (eh.e_ident[EI_CLASS] != ELFCLASS64) fail("ELF image is not 64-bit (ELFCLASS64)");
  if (eh.e_ident[EI_DATA] != ELFDATA2LSB) fail("ELF image is not little-endian");
  if (eh.e_ident[EI_VERSION] != EV_CURRENT)
    fail("ELF image has unknown version {}", eh.e_ident[EI_VERSION]);
  if (eh.e_machine != EM_X86_64) fail("ELF image is for machine {}, not x86-64", eh.e_machine);
  if (eh.e_type != ET_EXEC) fail("ELF image is not an executable (type {})", eh.e_type);
  if (eh.e_phentsize != sizeof(Elf64_Phdr))
    fail("ELF program header size {} is not {}", eh.e_phentsize, sizeof(Elf64_Phdr));
  if (eh.e_phnum == 0 || eh.e_phnum > kMaxPhdrs)
    fail("ELF image has {} program headers (1 to {} allowed)", eh.e_phnum, kMaxPhdrs);
  if (!within(eh.e_phoff, uint64_t{eh.e_phnum} * sizeof(Elf64_Phdr), image.size()))
    fail("ELF program headers at offset {:#x} lie outside the {}-byte image", eh.e_phoff,
         image.size());
  return eh;
}

void check_load_segment(const GuestMemory& mem, std::span<const uint8_t> image, unsigned i,
                        const Elf64_Phdr& ph) {
  if (ph.p_filesz > ph.p_memsz)
    fail("ELF segment {} has filesz {:#x} > memsz {:#x}", i, ph.p_filesz, ph.p_memsz);
  if (!within(ph.p_offset, ph.p_filesz, image.size()))
    fail("ELF segment {} at offset {:#x}+{:#x} lies outside the {}-byte image", i, ph.p_offset,
         ph.p_filesz, image.size());
  if (ph.p_paddr < layout::kHighMemory)
    fail("ELF segment {} at {:#x} overlaps the boot area below 1 MiB", i, ph.p_paddr);
  if (!mem.contains(ph.p_paddr, ph.p_memsz))
    fail("ELF segment {} at {:#x}+{:#x} does not fit in {} MiB of guest RAM", i, ph.p_paddr,
         ph.p_memsz, mem.size() >> 20);
}

// vmlinux links e_entry as the physical address of startup_64; other images
// may give a virtual address, which the segment containing it translates.
std::optional<uint64_t> physical_entry(const std::vector<Elf64_Phdr>& loads, uint64_t entry) {
  for (const Elf64_Phdr& ph : loads)
    if (entry >= ph.p_paddr && entry - ph.p_paddr < ph.p_memsz) return entry;
  for (const Elf64_Phdr& ph : loads)
    if (entry >= ph.p_vaddr && entry - ph.p_vaddr < ph.p_memsz)
      return ph.p_paddr + (entry - ph.p_vaddr);
  return std::nullopt;
}

bool in_segment(const std::vector<Elf64_Phdr>& loads, uint64_t paddr) {
  return std::any_of(loads.begin(), loads.end(), [&](const Elf64_Phdr& ph) {
    return paddr >= ph.p_paddr && paddr - ph.p_paddr < ph.p_memsz;
  });
}

}  // namespace

bool is_elf(std::span<const uint8_t> image) {
  return image.size() >= SELFMAG && std::memcmp(image.data(), ELFMAG, SELFMAG) == 0;
}

LoadedElf load_elf(const GuestMemory& mem, std::span<const uint8_t> image) {
  Elf64_Ehdr eh = checked_header(image);

  std::vector<Elf64_Phdr> loads;
  std::optional<uint32_t> pvh;
  for (unsigned i = 0; i < eh.e_phnum; ++i) {
    auto ph = read_at<Elf64_Phdr>(image, eh.e_phoff + i * sizeof(Elf64_Phdr));
    if (ph.p_type == PT_NOTE && !pvh) pvh = find_pvh_note(image, ph);
    if (ph.p_type != PT_LOAD) continue;
    check_load_segment(mem, image, i, ph);
    if (ph.p_memsz != 0) loads.push_back(ph);
  }
  if (loads.empty()) fail("ELF image has no loadable segment");
  // Every segment is inside RAM now, so p_paddr + p_memsz cannot wrap.
  std::sort(loads.begin(), loads.end(),
            [](const Elf64_Phdr& a, const Elf64_Phdr& b) { return a.p_paddr < b.p_paddr; });
  for (size_t i = 1; i < loads.size(); ++i)
    if (loads[i - 1].p_paddr + loads[i - 1].p_memsz > loads[i].p_paddr)
      fail("ELF segments at {:#x}+{:#x} and {:#x} overlap", loads[i - 1].p_paddr,
           loads[i - 1].p_memsz, loads[i].p_paddr);

  std::optional<uint64_t> entry = physical_entry(loads, eh.e_entry);
  if (!entry) fail("ELF entry point {:#x} is in no loadable segment", eh.e_entry);
  if (pvh && !in_segment(loads, *pvh))
    fail("PVH entry point {:#x} is in no loadable segment", *pvh);

  LoadedElf out{*entry, pvh, loads.front().p_paddr, 0};
  for (const Elf64_Phdr& ph : loads) {
    mem.write(ph.p_paddr, image.subspan(ph.p_offset, ph.p_filesz));
    mem.fill(ph.p_paddr + ph.p_filesz, ph.p_memsz - ph.p_filesz, 0);
    out.end = std::max(out.end, ph.p_paddr + ph.p_memsz);
  }
  return out;
}

}  // namespace vmrt::vmm::boot
