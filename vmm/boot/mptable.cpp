#include "vmm/boot/mptable.h"

#include <cstring>
#include <vector>

#include "common/error.h"
#include "vmm/boot/layout.h"
#include "vmm/boot/mptable_abi.h"

namespace vmrt::vmm::boot {

namespace {

constexpr uint8_t kLapicVersion = 0x14;
constexpr uint8_t kIoApicVersion = 0x11;
constexpr uint8_t kIsaBus = 0;

uint8_t checksum(const uint8_t* p, size_t n) {
  uint8_t sum = 0;
  for (size_t i = 0; i < n; ++i) sum = static_cast<uint8_t>(sum + p[i]);
  return static_cast<uint8_t>(-sum);
}

template <typename T>
void append(std::vector<uint8_t>& out, const T& entry) {
  auto p = reinterpret_cast<const uint8_t*>(&entry);
  out.insert(out.end(), p, p + sizeof(T));
}

}  // namespace

uint64_t write_mptable(const GuestMemory& mem, uint32_t cpus) {
  if (cpus == 0 || cpus > kMaxMpCpus)
    fail("the MP table describes 1 to {} CPUs, not {}", kMaxMpCpus, cpus);
  const uint8_t ioapic_id = static_cast<uint8_t>(cpus);

  std::vector<uint8_t> table(sizeof(MpConfigHeader));
  uint16_t entries = 0;
  for (uint32_t i = 0; i < cpus; ++i, ++entries) {
    MpCpu cpu{};
    cpu.type = 0;
    cpu.apicid = static_cast<uint8_t>(i);
    cpu.apicver = kLapicVersion;
    cpu.cpuflag = kMpCpuEnabled | (i == 0 ? kMpCpuBootProcessor : 0);
    cpu.cpufeature = 0x600;   // family 6
    cpu.featureflag = 0x201;  // FPU, APIC
    append(table, cpu);
  }
  MpBus bus{1, kIsaBus, {'I', 'S', 'A', ' ', ' ', ' '}};
  append(table, bus), ++entries;
  MpIoApic ioapic{2, ioapic_id, kIoApicVersion, 1, static_cast<uint32_t>(layout::kIoApic)};
  append(table, ioapic), ++entries;
  // Every IOAPIC pin carries the same-numbered IRQ: the ISA IRQs and the
  // virtio-mmio IRQs above them (edge-triggered, active high: "conforming").
  for (uint32_t irq = 0; irq <= layout::kLastIrq; ++irq, ++entries)
    append(table, MpIntSrc{3, kMpIrqInt, 0, kIsaBus, static_cast<uint8_t>(irq), ioapic_id,
                           static_cast<uint8_t>(irq)});
  // LINT0 takes the PIC's ExtINT, LINT1 NMIs, on every local APIC.
  append(table, MpIntSrc{4, kMpIrqExtInt, 0, kIsaBus, 0, 0xff, 0}), ++entries;
  append(table, MpIntSrc{4, kMpIrqNmi, 0, kIsaBus, 0, 0xff, 1}), ++entries;

  auto* header = reinterpret_cast<MpConfigHeader*>(table.data());
  std::memcpy(header->signature, "PCMP", 4);
  header->length = static_cast<uint16_t>(table.size());
  header->spec = 4;
  std::memcpy(header->oem, "VMRT    ", 8);
  std::memcpy(header->product, "MICROVM     ", 12);
  header->entry_count = entries;
  header->lapic = static_cast<uint32_t>(layout::kLocalApic);
  header->checksum = checksum(table.data(), table.size());

  MpFloatingPointer fp{};
  std::memcpy(fp.signature, "_MP_", 4);
  fp.physptr = static_cast<uint32_t>(layout::kMpTable + sizeof fp);
  fp.length = 1;
  fp.specification = 4;
  fp.checksum = checksum(reinterpret_cast<const uint8_t*>(&fp), sizeof fp);

  uint64_t total = sizeof fp + table.size();
  if (total > layout::kMpTableMax) fail("MP table of {} bytes does not fit", total);
  mem.write_obj(layout::kMpTable, fp);
  mem.write(fp.physptr, table);
  return total;
}

}  // namespace vmrt::vmm::boot
