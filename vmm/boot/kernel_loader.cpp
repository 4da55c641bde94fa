#include "vmm/boot/kernel_loader.h"

#include <asm/bootparam.h>
#include <asm/processor-flags.h>

#include <algorithm>
#include <optional>
#include <vector>

#include "common/error.h"
#include "vmm/boot/boot_params.h"
#include "vmm/boot/bzimage_loader.h"
#include "vmm/boot/e820.h"
#include "vmm/boot/elf_loader.h"
#include "vmm/boot/image_file.h"
#include "vmm/boot/layout.h"
#include "vmm/boot/mib.h"
#include "vmm/boot/mptable.h"
#include "vmm/boot/page_tables.h"

namespace vmrt::vmm::boot {

namespace {

// EFER bits (arch/x86/include/asm/msr-index.h, not part of the uapi).
constexpr uint64_t kEferLme = 1u << 8;   // long mode enable
constexpr uint64_t kEferLma = 1u << 10;  // long mode active
// The boot protocol's initrd limit for headers that give none (before 2.03).
constexpr uint64_t kDefaultInitrdMax = 0x37ffffff;

// What loading the kernel image decided.
struct LoadedKernel {
  BootSetup::Mode mode;
  uint64_t entry;
  uint64_t end;              // the initrd goes above this
  setup_header header;       // Linux64: for the zero page
  uint64_t initrd_max;       // highest address the initrd may occupy
  uint64_t cmdline_max_len;  // without the NUL
};

std::string kernel_label(const BootConfig& config) {
  return config.kernel_name.empty() ? "kernel image" : "kernel image " + config.kernel_name;
}

// The image is an ELF or a bzImage by its magic.
LoadedKernel load_image(const GuestMemory& mem, const BootConfig& config) {
  const uint64_t low_top = mem.regions()[0].size;
  LoadedKernel k{};
  k.cmdline_max_len = layout::kCmdlineMax - 1;
  if (is_elf(config.kernel)) {
    LoadedElf elf = load_elf(mem, config.kernel);
    // Both entries start with only the first 4 GiB in reach: 32-bit code
    // without paging, or 64-bit code on the identity map.
    if (elf.end > layout::kIdentityMapped)
      fail("ELF segments end at {:#x}, above the first 4 GiB the kernel's entry can reach",
           elf.end);
    k.end = elf.end;
    if (elf.pvh_entry) {
      // PVH has no initrd limit of its own; it must stay in low RAM, where
      // 32-bit code can reach it.
      k.mode = BootSetup::Mode::Pvh32;
      k.entry = *elf.pvh_entry;
      k.initrd_max = low_top - 1;
    } else {
      k.mode = BootSetup::Mode::Linux64;
      k.entry = elf.entry64;
      k.header = vmlinux_setup_header();
      k.initrd_max = k.header.initrd_addr_max;
    }
  } else {
    LoadedBzImage bz = load_bzimage(mem, config.kernel);
    k.mode = BootSetup::Mode::Linux64;
    k.entry = bz.entry64;
    k.end = bz.end;
    k.header = bz.header;
    k.initrd_max = bz.header.initrd_addr_max ? bz.header.initrd_addr_max : kDefaultInitrdMax;
    // The kernel states its own limit (it truncates a longer command line).
    if (bz.header.cmdline_size != 0)
      k.cmdline_max_len = std::min<uint64_t>(k.cmdline_max_len, bz.header.cmdline_size);
  }
  return k;
}

void write_cmdline(const GuestMemory& mem, const std::string& cmdline, uint64_t max_len) {
  if (cmdline.size() > max_len)
    fail("kernel command line of {} bytes is longer than the kernel's limit of {}", cmdline.size(),
         max_len);
  if (cmdline.find('\0') != std::string::npos) fail("kernel command line contains a NUL byte");
  mem.write(layout::kCmdline,
            {reinterpret_cast<const uint8_t*>(cmdline.c_str()), cmdline.size() + 1});
}

// Places the initrd as high as allowed: page aligned, in low RAM (below the
// MMIO hole), at most at `limit`, and above the kernel.
BootModule place_initrd(const GuestMemory& mem, std::span<const uint8_t> initrd,
                        uint64_t kernel_end, uint64_t limit) {
  const uint64_t size = initrd.size();
  if (size == 0) return {};
  if (size > mem.size())
    fail("initrd of {} MiB does not fit in {} MiB of guest RAM", mib_ceil(size), mem.size() >> 20);
  const uint64_t low_top = mem.regions()[0].size;
  // limit < 2^32 in practice, but a 64-bit field must not wrap the sum.
  const uint64_t top = limit >= low_top ? low_top : limit + 1;
  const uint64_t bottom = (kernel_end + layout::kPage - 1) & ~(layout::kPage - 1);
  if (bottom > top || size > top - bottom)
    fail(
        "initrd of {} MiB does not fit in {} MiB of guest RAM: {} MiB are free between the "
        "kernel's end and the initrd limit at {:#x}",
        mib_ceil(size), mem.size() >> 20, bottom > top ? 0 : (top - bottom) >> 20, top);
  const uint64_t addr = (top - size) & ~(layout::kPage - 1);
  mem.write(addr, initrd);
  return {addr, size};
}

}  // namespace

BootSetup load_kernel(const GuestMemory& mem, const BootConfig& config) {
  if (config.kernel.empty()) fail("{} is empty", kernel_label(config));
  std::vector<MemoryMapEntry> map = memory_map(mem);
  write_mptable(mem, config.cpus);

  if (!is_elf(config.kernel) && !is_bzimage(config.kernel))
    fail("{} is neither an ELF vmlinux nor a bzImage", kernel_label(config));
  LoadedKernel kernel;
  try {
    kernel = load_image(mem, config);
  } catch (const Error& e) {
    fail("{}: {}", kernel_label(config), e.what());
  }
  write_cmdline(mem, config.cmdline, kernel.cmdline_max_len);
  BootModule initrd = place_initrd(mem, config.initrd, kernel.end, kernel.initrd_max);

  uint64_t boot_info =
      kernel.mode == BootSetup::Mode::Pvh32
          ? write_pvh_start_info(mem, map, layout::kCmdline, initrd)
          : write_zero_page(mem, make_zero_page(kernel.header, map, layout::kCmdline, initrd));
  BootSetup setup = entry_cpu_state(mem, kernel.mode, kernel.entry, boot_info);
  setup.initrd_addr = initrd.addr;
  setup.initrd_size = initrd.size;
  return setup;
}

BootSetup entry_cpu_state(const GuestMemory& mem, BootSetup::Mode mode, uint64_t entry,
                          uint64_t boot_info) {
  BootSetup setup{};
  setup.mode = mode;
  setup.entry = entry;
  setup.boot_info = boot_info;
  setup.rflags = X86_EFLAGS_FIXED;
  if (mode == BootSetup::Mode::Pvh32) {
    setup.gdt = write_gdt(mem, CpuMode::Protected32);
    setup.cr0 = X86_CR0_PE | X86_CR0_ET;
  } else {
    setup.gdt = write_gdt(mem, CpuMode::Long64);
    setup.cr3 = write_identity_page_tables(mem);
    setup.cr0 = X86_CR0_PE | X86_CR0_ET | X86_CR0_PG;
    setup.cr4 = X86_CR4_PAE;
    setup.efer = kEferLme | kEferLma;
    setup.rsp = layout::kBootStack;
  }
  return setup;
}

BootSetup load_kernel_files(const GuestMemory& mem, const BootFiles& files) {
  ImageFile kernel = read_image_file("guest kernel", files.kernel, mem.size());
  std::optional<ImageFile> initrd;
  if (!files.initrd.empty()) initrd = read_image_file("initrd", files.initrd, mem.size());
  return load_kernel(mem, {kernel.bytes(), initrd ? initrd->bytes() : std::span<const uint8_t>{},
                           files.cmdline, files.cpus, files.kernel});
}

}  // namespace vmrt::vmm::boot
