#include "tests/unit/vmm/boot/boot_images.h"

#include "vmm/boot/pvh_abi.h"

namespace vmrt::vmm::test {

namespace {

void append_note(std::vector<uint8_t>& out, const char* name, uint32_t type,
                 const std::vector<uint8_t>& value) {
  uint32_t namesz = static_cast<uint32_t>(std::strlen(name) + 1);
  Elf64_Nhdr nh{namesz, static_cast<uint32_t>(value.size()), type};
  auto pad = [&] { out.resize((out.size() + 3) & ~size_t{3}); };
  auto p = reinterpret_cast<const uint8_t*>(&nh);
  out.insert(out.end(), p, p + sizeof nh);
  out.insert(out.end(), name, name + namesz);
  pad();
  out.insert(out.end(), value.begin(), value.end());
  pad();
}

}  // namespace

ElfBuilder::ElfBuilder() {
  std::memcpy(ehdr.e_ident, ELFMAG, SELFMAG);
  ehdr.e_ident[EI_CLASS] = ELFCLASS64;
  ehdr.e_ident[EI_DATA] = ELFDATA2LSB;
  ehdr.e_ident[EI_VERSION] = EV_CURRENT;
  ehdr.e_type = ET_EXEC;
  ehdr.e_machine = EM_X86_64;
  ehdr.e_version = EV_CURRENT;
  ehdr.e_ehsize = sizeof(Elf64_Ehdr);
  ehdr.e_phentsize = sizeof(Elf64_Phdr);
  ehdr.e_phoff = sizeof(Elf64_Ehdr);
  ehdr.e_entry = kElfLoad;
  add_load(kElfLoad, kElfVirtual, std::vector<uint8_t>(64, 0x90), 0x2000);
}

ElfSegment& ElfBuilder::add_load(uint64_t paddr, uint64_t vaddr, std::vector<uint8_t> data,
                                 uint64_t memsz) {
  Elf64_Phdr ph{};
  ph.p_type = PT_LOAD;
  ph.p_paddr = paddr;
  ph.p_vaddr = vaddr;
  ph.p_memsz = memsz;
  ph.p_align = 0x200000;
  segments.push_back({ph, std::move(data)});
  return segments.back();
}

void ElfBuilder::add_pvh_note(uint64_t entry, uint32_t value_size) {
  std::vector<uint8_t> notes;
  append_note(notes, "GNU", NT_GNU_BUILD_ID, std::vector<uint8_t>(20, 0x5a));
  std::vector<uint8_t> value(value_size);
  std::memcpy(value.data(), &entry, std::min<size_t>(value_size, sizeof entry));
  append_note(notes, "Xen", boot::kXenElfNotePhys32Entry, value);
  Elf64_Phdr ph{};
  ph.p_type = PT_NOTE;
  ph.p_align = 4;
  segments.push_back({ph, std::move(notes)});
}

std::vector<uint8_t> ElfBuilder::build() const {
  std::vector<uint8_t> image(sizeof(Elf64_Ehdr) + segments.size() * sizeof(Elf64_Phdr));
  Elf64_Ehdr eh = ehdr;
  eh.e_phnum = static_cast<uint16_t>(segments.size());
  std::memcpy(image.data(), &eh, sizeof eh);
  for (size_t i = 0; i < segments.size(); ++i) {
    Elf64_Phdr ph = segments[i].phdr;
    ph.p_offset = image.size();
    ph.p_filesz = segments[i].data.size();
    image.insert(image.end(), segments[i].data.begin(), segments[i].data.end());
    // Always right after the header: a test may point e_phoff elsewhere.
    std::memcpy(image.data() + sizeof(Elf64_Ehdr) + i * sizeof ph, &ph, sizeof ph);
  }
  return image;
}

void patch_phdr(std::vector<uint8_t>& image, unsigned index,
                const std::function<void(Elf64_Phdr&)>& edit) {
  Elf64_Ehdr eh;
  std::memcpy(&eh, image.data(), sizeof eh);
  size_t off = eh.e_phoff + index * sizeof(Elf64_Phdr);
  Elf64_Phdr ph;
  std::memcpy(&ph, image.data() + off, sizeof ph);
  edit(ph);
  std::memcpy(image.data() + off, &ph, sizeof ph);
}

std::vector<uint8_t> make_bzimage(const BzImageOptions& o) {
  uint64_t setup_bytes = (uint64_t{o.setup_sects ? o.setup_sects : 4u} + 1) * 512;
  std::vector<uint8_t> image(setup_bytes + o.kernel_size, 0);
  setup_header h{};
  h.setup_sects = o.setup_sects;
  h.syssize = o.kernel_size / 16;
  h.boot_flag = 0xaa55;
  h.header = 0x53726448;
  h.version = o.version;
  h.loadflags = o.loadflags;
  h.xloadflags = o.xloadflags;
  h.code32_start = 0x100000;
  h.pref_address = o.pref_address;
  h.init_size = o.init_size;
  h.relocatable_kernel = o.relocatable;
  h.kernel_alignment = o.kernel_alignment;
  h.initrd_addr_max = o.initrd_addr_max;
  h.cmdline_size = o.cmdline_size;
  h.setup_data = 0xdeadbeef;  // a loader-owned field the loader must clear
  std::memcpy(image.data() + offsetof(boot_params, hdr), &h, sizeof h);
  if (o.kernel_size > 0) image[setup_bytes] = 0xaa;
  if (o.kernel_size > 0x200) image[setup_bytes + 0x200] = 0xbb;
  return image;
}

}  // namespace vmrt::vmm::test
