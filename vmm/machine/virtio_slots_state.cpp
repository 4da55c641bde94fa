#include "vmm/machine/virtio_slots_state.h"

#include "common/error.h"

namespace vmrt::vmm {

std::vector<virtio::TransportState> parse_slots_state(
    const nlohmann::json& j, const std::vector<const virtio::VirtioDevice*>& devices) {
  if (!j.is_array()) fail("virtio slots state: expected an array, got {}", j.type_name());
  auto name = [](uint32_t type) { return virtio::device_name(type); };
  std::vector<virtio::TransportState> out;
  for (size_t slot = 0; slot < std::max(j.size(), devices.size()); ++slot) {
    if (slot >= j.size())
      fail("the snapshot has no device in slot {}, this VM has {}", slot,
           name(devices[slot]->device_type()));
    const nlohmann::json& e = j[slot];
    if (!e.is_object() || !e.contains("device_type") || !e.at("device_type").is_number_unsigned() ||
        !e.contains("transport"))
      fail(
          "virtio slots state: slot {}: expected {{\"device_type\": <number>, \"transport\": ...}}",
          slot);
    uint64_t type = e.at("device_type").get<uint64_t>();
    std::string saved = type <= UINT32_MAX ? name(static_cast<uint32_t>(type))
                                           : fmt::format("virtio device {}", type);
    if (slot >= devices.size())
      fail("the snapshot has {} in slot {}, this VM has none", saved, slot);
    uint32_t have = devices[slot]->device_type();
    if (type != have)
      fail("the snapshot has {} in slot {}, this VM has {}", saved, slot, name(have));
    try {
      out.push_back(virtio::parse_transport_state(e.at("transport"), *devices[slot]));
    } catch (const Error& err) {
      fail("slot {}: {}", slot, err.what());
    }
  }
  return out;
}

}  // namespace vmrt::vmm
