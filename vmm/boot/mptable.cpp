#include "vmm/boot/mptable.h"

#include <cstddef>
#include <cstring>
#include <vector>

#include "common/error.h"
#include "vmm/boot/checksum.h"
#include "vmm/boot/layout.h"
#include "vmm/boot/mptable_abi.h"

namespace vmrt::vmm::boot {

namespace {

constexpr uint8_t kLapicVersion = 0x14;   // an integrated xAPIC, as KVM's LAPIC reports
constexpr uint8_t kIoApicVersion = 0x11;  // the 82093AA, as KVM's IOAPIC reports
constexpr uint8_t kMpSpecRevision = 4;    // MP specification 1.4
constexpr uint8_t kIsaBus = 0;
// cpufeature: family 6 (signature bits 11:8); featureflag: CPUID.1:EDX FPU and
// APIC. Linux only uses these for logging; the real values come from CPUID.
constexpr uint32_t kCpuSignature = 0x600;
constexpr uint32_t kCpuFeatures = (1u << 0) | (1u << 9);

// Builds the configuration table (header first) in host memory, so that its
// length and checksum are known before anything reaches the guest.
class TableBuilder {
 public:
  TableBuilder() : bytes_(sizeof(mpc_table)) {}

  template <typename Entry>
  void add(const Entry& entry) {
    auto p = reinterpret_cast<const uint8_t*>(&entry);
    bytes_.insert(bytes_.end(), p, p + sizeof(Entry));
    ++entries_;
  }

  std::vector<uint8_t> finish() {
    if (bytes_.size() > UINT16_MAX) fail("MP table of {} bytes is too long", bytes_.size());
    mpc_table header{};
    std::memcpy(header.signature, "PCMP", 4);
    header.length = static_cast<uint16_t>(bytes_.size());
    header.spec = kMpSpecRevision;
    std::memcpy(header.oem, "VMRT    ", sizeof header.oem);
    std::memcpy(header.productid, "MICROVM     ", sizeof header.productid);
    header.oemcount = entries_;
    header.lapic = static_cast<uint32_t>(layout::kLocalApic);
    std::memcpy(bytes_.data(), &header, sizeof header);
    bytes_[offsetof(mpc_table, checksum)] = checksum_byte(bytes_);
    return std::move(bytes_);
  }

 private:
  std::vector<uint8_t> bytes_;
  uint16_t entries_ = 0;
};

}  // namespace

uint64_t write_mptable(const GuestMemory& mem, uint32_t cpus) {
  if (cpus == 0 || cpus > kMaxMpCpus)
    fail("the MP table describes 1 to {} vCPUs, not {}", kMaxMpCpus, cpus);
  const uint8_t ioapic_id = static_cast<uint8_t>(cpus);

  TableBuilder table;
  for (uint32_t i = 0; i < cpus; ++i) {
    uint8_t flags = kMpCpuEnabled | (i == 0 ? kMpCpuBootProcessor : 0);
    table.add(mpc_cpu{kMpProcessor,
                      static_cast<uint8_t>(i),
                      kLapicVersion,
                      flags,
                      kCpuSignature,
                      kCpuFeatures,
                      {0, 0}});
  }
  table.add(mpc_bus{kMpBus, kIsaBus, {'I', 'S', 'A', ' ', ' ', ' '}});
  table.add(mpc_ioapic{kMpIoApic, ioapic_id, kIoApicVersion, kMpIoApicUsable,
                       static_cast<uint32_t>(layout::kIoApic)});
  // KVM's default routing sends GSI n to IOAPIC pin n (and to the PIC for
  // n < 16), so ISA IRQ n is pin n; the virtio-mmio IRQs are the pins above
  // the legacy devices' and are declared on the same ISA bus, edge-triggered.
  for (uint32_t irq = 0; irq <= layout::kLastIrq; ++irq)
    table.add(mpc_intsrc{kMpIntSrc, kMpIrqInt, kMpIrqFlagConforming, kIsaBus,
                         static_cast<uint8_t>(irq), ioapic_id, static_cast<uint8_t>(irq)});
  // Every local APIC: the PIC's output on LINT0 (virtual wire mode until the
  // kernel switches to the IOAPIC), NMIs on LINT1.
  table.add(
      mpc_lintsrc{kMpLintSrc, kMpIrqExtInt, kMpIrqFlagConforming, kIsaBus, 0, kMpAllLocalApics, 0});
  table.add(
      mpc_lintsrc{kMpLintSrc, kMpIrqNmi, kMpIrqFlagConforming, kIsaBus, 0, kMpAllLocalApics, 1});
  std::vector<uint8_t> config = table.finish();

  const uint64_t config_addr = layout::kMpTable + sizeof(mpf_intel);
  uint64_t total = sizeof(mpf_intel) + config.size();
  if (total > layout::kMpTableMax)
    fail("MP table of {} bytes for {} vCPUs does not fit in its {} bytes at {:#x}", total, cpus,
         layout::kMpTableMax, layout::kMpTable);

  mpf_intel fp{};
  std::memcpy(fp.signature, "_MP_", 4);
  fp.physptr = static_cast<uint32_t>(config_addr);
  fp.length = 1;
  fp.specification = kMpSpecRevision;
  fp.checksum = checksum_byte({reinterpret_cast<const uint8_t*>(&fp), sizeof fp});

  mem.write_obj(layout::kMpTable, fp);
  mem.write(config_addr, config);
  return total;
}

}  // namespace vmrt::vmm::boot
