// Machine::save_state and restore_state: the machine's side of snapshots
// (the formats and the parsing are in vmm/snapshot).
#include "common/error.h"
#include "vmm/kvm/vcpu_state.h"
#include "vmm/kvm/vm_state.h"
#include "vmm/machine/machine.h"
#include "vmm/snapshot/kvm_state_json.h"
#include "vmm/snapshot/machine_state.h"

namespace vmrt::vmm {

nlohmann::json Machine::save_state() {
  {
    std::lock_guard lock(mu_);
    // Paused means every vCPU thread is parked outside KVM_RUN with its
    // last exit completed, and no device thread can be mid-register-access
    // on behalf of a vCPU.
    if (state_ != RunState::Paused) fail("the VM must be paused to save its state");
  }
  std::vector<uint32_t> msrs = msrs_to_save(kvm_);
  nlohmann::json vcpus = nlohmann::json::array();
  for (const Vcpu& v : vcpus_)
    vcpus.push_back(snapshot::vcpu_state_to_json(save_vcpu_state(kvm_, v, msrs)));
  return {
      {"vcpus", std::move(vcpus)},
      {"vm", snapshot::vm_state_to_json(save_vm_state(kvm_, vm_))},
      {"serial", serial_->save_state()},
      {"i8042", i8042_->save_state()},
      {"memory", snapshot::ram_layout_to_json(mem_)},
  };
}

void Machine::restore_state(const nlohmann::json& doc) {
  {
    std::lock_guard lock(mu_);
    if (state_ != RunState::Created) fail("a VM's state can only be restored before it starts");
  }
  snapshot::MachineState s = snapshot::parse_machine_state(doc);
  if (s.vcpus.size() != vcpus_.size())
    fail("the snapshot has {} vCPUs but this VM was created with {} (max_cpus)", s.vcpus.size(),
         vcpus_.size());
  if (s.memory.size != mem_.size())
    fail("the snapshot's RAM is {} bytes but this VM has {}", s.memory.size, mem_.size());
  const std::vector<RamRegion>& have = mem_.regions();
  bool same = s.memory.regions.size() == have.size();
  for (size_t i = 0; same && i < have.size(); ++i)
    same = s.memory.regions[i].gpa == have[i].gpa && s.memory.regions[i].size == have[i].size &&
           s.memory.regions[i].offset == have[i].offset;
  if (!same) fail("the snapshot's RAM regions differ from this VM's layout");

  // Interrupt controllers before the LAPICs and MSRs that refer to them;
  // the clock after the vCPUs' TSC writes.
  restore_vm_devices(kvm_, vm_, s.vm);
  for (size_t i = 0; i < vcpus_.size(); ++i) {
    try {
      restore_vcpu_state(kvm_, vcpus_[i], s.vcpus[i]);
    } catch (const Error& e) {
      fail("restoring vCPU {}: {}", i, e.what());
    }
  }
  restore_vm_clock(vm_, s.vm);
  serial_->restore_state(s.serial);
  i8042_->restore_state(s.i8042);
}

}  // namespace vmrt::vmm
