#pragma once
// The state document of a whole machine, parsed and checked into typed
// structs without touching KVM, so that everything a snapshot says is
// validated (and fuzzed) before any of it is applied:
//   {vcpus: [...], vm: {irqchip, pit, clock}, serial: {...}, i8042: {...},
//    memory: {size, regions: [{gpa, size, offset}]}}
// Other members (the virtio devices') are left to their own parsers.

#include <nlohmann/json.hpp>
#include <vector>

#include "vmm/devices/i8042/i8042.h"
#include "vmm/devices/serial/serial.h"
#include "vmm/kvm/vcpu_state.h"
#include "vmm/kvm/vm_state.h"
#include "vmm/memory/guest_memory.h"

namespace vmrt::vmm::snapshot {

// The MP table's limit, as Machine::create's.
inline constexpr size_t kMaxVcpus = 254;

struct RamLayout {
  uint64_t size = 0;
  std::vector<RamRegion> regions;
};

struct MachineState {
  std::vector<VcpuState> vcpus;
  VmState vm;
  Serial::Registers serial;
  I8042::Registers i8042;
  RamLayout memory;
};

// Throws vmrt::Error naming the first value that is missing, of the wrong
// type or size, or out of range.
MachineState parse_machine_state(const nlohmann::json& doc);

nlohmann::json ram_layout_to_json(const GuestMemory& mem);

}  // namespace vmrt::vmm::snapshot
