#pragma once
// The PVH boot ABI (Xen's public arch-x86/hvm/start_info.h; Linux implements
// it for KVM guests too). Not in the Linux uapi headers, so declared here.

#include <cstdint>

namespace vmrt::vmm::boot {

constexpr uint32_t kPvhStartMagic = 0x336ec578;
constexpr uint32_t kXenElfNotePhys32Entry = 18;  // XEN_ELFNOTE_PHYS32_ENTRY

struct HvmStartInfo {
  uint32_t magic;
  uint32_t version;  // 1: has the memory map
  uint32_t flags;
  uint32_t nr_modules;
  uint64_t modlist_paddr;
  uint64_t cmdline_paddr;
  uint64_t rsdp_paddr;
  uint64_t memmap_paddr;
  uint32_t memmap_entries;
  uint32_t reserved;
};
static_assert(sizeof(HvmStartInfo) == 56);

struct HvmModlistEntry {
  uint64_t paddr;
  uint64_t size;
  uint64_t cmdline_paddr;
  uint64_t reserved;
};
static_assert(sizeof(HvmModlistEntry) == 32);

struct HvmMemmapEntry {
  uint64_t addr;
  uint64_t size;
  uint32_t type;  // E820 types
  uint32_t reserved;
};
static_assert(sizeof(HvmMemmapEntry) == 24);

}  // namespace vmrt::vmm::boot
