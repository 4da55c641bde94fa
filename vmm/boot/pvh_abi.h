#pragma once
// The PVH boot ABI, as defined by Xen's public header
// xen/include/public/arch-x86/hvm/start_info.h (start info version 1, which
// added the memory map) and xen/include/public/elfnote.h; Linux implements
// it for KVM guests too (arch/x86/platform/pvh/). Neither header is part of
// the Linux uapi, so the layouts are declared here under Xen's names.

#include <cstdint>

namespace vmrt::vmm::boot {

constexpr uint32_t kXenHvmStartMagic = 0x336ec578;  // XEN_HVM_START_MAGIC_VALUE
constexpr uint32_t kHvmStartInfoVersion = 1;        // has memmap_paddr/memmap_entries
// ELF note of owner "Xen" whose value is the 32-bit physical PVH entry point.
constexpr uint32_t kXenElfNotePhys32Entry = 18;  // XEN_ELFNOTE_PHYS32_ENTRY

struct hvm_start_info {
  uint32_t magic;
  uint32_t version;
  uint32_t flags;
  uint32_t nr_modules;
  uint64_t modlist_paddr;  // array of hvm_modlist_entry
  uint64_t cmdline_paddr;  // NUL-terminated
  uint64_t rsdp_paddr;     // ACPI RSDP, 0 when there is none
  uint64_t memmap_paddr;   // array of hvm_memmap_table_entry (version 1)
  uint32_t memmap_entries;
  uint32_t reserved;
};
static_assert(sizeof(hvm_start_info) == 56);

struct hvm_modlist_entry {
  uint64_t paddr;
  uint64_t size;
  uint64_t cmdline_paddr;
  uint64_t reserved;
};
static_assert(sizeof(hvm_modlist_entry) == 32);

struct hvm_memmap_table_entry {
  uint64_t addr;
  uint64_t size;
  uint32_t type;  // XEN_HVM_MEMMAP_TYPE_*, numerically the E820 types
  uint32_t reserved;
};
static_assert(sizeof(hvm_memmap_table_entry) == 24);

}  // namespace vmrt::vmm::boot
