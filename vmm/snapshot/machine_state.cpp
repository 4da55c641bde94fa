#include "vmm/snapshot/machine_state.h"

#include "vmm/snapshot/fields.h"
#include "vmm/snapshot/kvm_state_json.h"

namespace vmrt::vmm::snapshot {

namespace {

// RAM is at most two regions (below the MMIO hole and above 4 GiB), laid
// out back to back in the memory file.
constexpr size_t kMaxRegions = 2;

RamLayout parse_ram_layout(const json& j, const std::string& path) {
  RamLayout m;
  m.size = uint_field<uint64_t>(j, path, "size");
  std::string rp = child(path, "regions");
  const json::array_t& regions = array_at(member(j, path, "regions"), rp, kMaxRegions);
  uint64_t offset = 0;
  for (size_t i = 0; i < regions.size(); ++i) {
    std::string p = fmt::format("{}[{}]", rp, i);
    RamRegion r{};
    r.gpa = uint_field<uint64_t>(regions[i], p, "gpa");
    r.size = uint_field<uint64_t>(regions[i], p, "size");
    r.offset = uint_field<uint64_t>(regions[i], p, "offset");
    if (r.offset != offset)
      fail("snapshot state: {}: offset {:#x} where the previous regions end at {:#x}", p, r.offset,
           offset);
    if (r.size > m.size - offset)
      fail("snapshot state: {}: the region runs past the RAM size {:#x}", p, m.size);
    offset += r.size;
    m.regions.push_back(r);
  }
  if (offset != m.size)
    fail("snapshot state: {}: the regions hold {:#x} bytes, not the RAM size {:#x}", rp, offset,
         m.size);
  return m;
}

}  // namespace

MachineState parse_machine_state(const json& doc) {
  MachineState s;
  const json::array_t& vcpus = array_at(member(doc, "", "vcpus"), "vcpus", kMaxVcpus);
  if (vcpus.empty()) fail("snapshot state: vcpus: no vCPU");
  for (size_t i = 0; i < vcpus.size(); ++i)
    s.vcpus.push_back(parse_vcpu_state(vcpus[i], fmt::format("vcpus[{}]", i)));
  s.vm = parse_vm_state(member(doc, "", "vm"), "vm");
  s.serial = Serial::parse_state(member(doc, "", "serial"), "serial");
  s.i8042 = I8042::parse_state(member(doc, "", "i8042"), "i8042");
  s.memory = parse_ram_layout(member(doc, "", "memory"), "memory");
  return s;
}

nlohmann::json ram_layout_to_json(const GuestMemory& mem) {
  json regions = json::array();
  for (const RamRegion& r : mem.regions())
    regions.push_back({{"gpa", r.gpa}, {"size", r.size}, {"offset", r.offset}});
  return {{"size", mem.size()}, {"regions", std::move(regions)}};
}

}  // namespace vmrt::vmm::snapshot
