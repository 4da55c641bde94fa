#include "vmm/snapshot/kvm_state_json.h"

#include "vmm/snapshot/fields.h"

namespace vmrt::vmm::snapshot {

namespace {

template <typename T>
std::optional<T> optional_struct(const json& obj, const std::string& path, const char* key) {
  if (!has_member(obj, key)) return std::nullopt;
  return struct_field<T>(obj, path, key);
}

}  // namespace

json vcpu_state_to_json(const VcpuState& s) {
  json j = {
      {"cpuid", to_blob(std::span<const kvm_cpuid_entry2>(s.cpuid))},
      {"mp_state", to_blob(s.mp_state)},
      {"regs", to_blob(s.regs)},
      {"sregs", to_blob(s.sregs)},
      {"lapic", to_blob(s.lapic)},
      {"msrs", to_blob(std::span<const kvm_msr_entry>(s.msrs))},
      {"events", to_blob(s.events)},
  };
  if (s.xsave) j["xsave"] = to_blob(*s.xsave);
  if (s.fpu) j["fpu"] = to_blob(*s.fpu);
  if (s.xcrs) j["xcrs"] = to_blob(*s.xcrs);
  if (s.debugregs) j["debugregs"] = to_blob(*s.debugregs);
  if (s.tsc_khz) j["tsc_khz"] = *s.tsc_khz;
  return j;
}

VcpuState parse_vcpu_state(const json& j, const std::string& path) {
  VcpuState s;
  s.cpuid = structs_at<kvm_cpuid_entry2>(member(j, path, "cpuid"), child(path, "cpuid"),
                                         kMaxCpuidEntries);
  if (s.cpuid.empty()) fail("snapshot state: {}: the CPUID table is empty", child(path, "cpuid"));
  s.mp_state = struct_field<kvm_mp_state>(j, path, "mp_state");
  s.regs = struct_field<kvm_regs>(j, path, "regs");
  s.sregs = struct_field<kvm_sregs>(j, path, "sregs");
  s.xsave = optional_struct<KvmXsave>(j, path, "xsave");
  s.fpu = optional_struct<kvm_fpu>(j, path, "fpu");
  if (s.xsave.has_value() == s.fpu.has_value())
    fail("snapshot state: {}: needs exactly one of \"xsave\" and \"fpu\"", path);
  s.xcrs = optional_struct<kvm_xcrs>(j, path, "xcrs");
  if (s.xcrs && s.xcrs->nr_xcrs > KVM_MAX_XCRS)
    fail("snapshot state: {}: {} XCRs, more than {}", child(path, "xcrs"), s.xcrs->nr_xcrs,
         KVM_MAX_XCRS);
  s.debugregs = optional_struct<kvm_debugregs>(j, path, "debugregs");
  s.lapic = struct_field<kvm_lapic_state>(j, path, "lapic");
  s.msrs = structs_at<kvm_msr_entry>(member(j, path, "msrs"), child(path, "msrs"), kMaxMsrs);
  s.events = struct_field<kvm_vcpu_events>(j, path, "events");
  if (has_member(j, "tsc_khz")) s.tsc_khz = uint_field<uint32_t>(j, path, "tsc_khz");
  return s;
}

json vm_state_to_json(const VmState& s) {
  json chips = json::array();
  for (const kvm_irqchip& c : s.irqchip) chips.push_back(to_blob(c));
  json j = {{"irqchip", std::move(chips)}, {"clock", to_blob(s.clock)}};
  if (s.pit) j["pit"] = to_blob(*s.pit);
  return j;
}

VmState parse_vm_state(const json& j, const std::string& path) {
  VmState s;
  std::string chips_path = child(path, "irqchip");
  const json::array_t& chips = array_at(member(j, path, "irqchip"), chips_path, s.irqchip.size());
  if (chips.size() != s.irqchip.size())
    fail("snapshot state: {}: {} chips, expected {} (PIC master, PIC slave, IOAPIC)", chips_path,
         chips.size(), s.irqchip.size());
  for (uint32_t id = 0; id < s.irqchip.size(); ++id) {
    std::string p = fmt::format("{}[{}]", chips_path, id);
    s.irqchip[id] = struct_at<kvm_irqchip>(chips[id], p);
    if (s.irqchip[id].chip_id != id)
      fail("snapshot state: {}: chip id {} where {} belongs", p, s.irqchip[id].chip_id, id);
  }
  s.pit = optional_struct<kvm_pit_state2>(j, path, "pit");
  s.clock = struct_field<kvm_clock_data>(j, path, "clock");
  return s;
}

}  // namespace vmrt::vmm::snapshot
