#include "vmm/control/memory_command.h"

#include "common/error.h"
#include "vmm/devices/mem/mem_device.h"

namespace vmrt::vmm {

nlohmann::json memory_command(mem::MemDevice* device, const nlohmann::json& request) {
  if (!device) fail("this VM has no virtio-mem device (started without --hotplug-mib)");
  if (auto it = request.find("requested_mib"); it != request.end()) {
    // Parsed text gives unsigned numbers; a document built in C++ signed ones.
    if (!it->is_number_integer() || (!it->is_number_unsigned() && it->get<int64_t>() < 0))
      fail("\"requested_mib\" must be a non-negative integer, got {}", it->dump());
    uint64_t mib = it->get<uint64_t>();
    mem::MemStatus s = device->status();
    if (mib > s.region_bytes >> 20)
      fail("requested_mib {} is more than the {} MiB hotplug region", mib, s.region_bytes >> 20);
    device->set_requested_size(mib << 20);
  }
  mem::MemStatus s = device->status();
  return {{"ok", true},
          {"region_mib", s.region_bytes >> 20},
          {"block_mib", s.block_bytes >> 20},
          {"requested_mib", s.requested_bytes >> 20},
          {"plugged_mib", s.plugged_bytes >> 20}};
}

}  // namespace vmrt::vmm
