#pragma once
// The virtio slots of a machine in a snapshot: a JSON array with one entry
// per slot, in slot order, each {"device_type": 1, "transport": <the
// transport's state, virtio/mmio_transport_state.h>}. A restore needs the
// same devices attached in the same slots; parse_slots_state() checks that
// and every transport's state, purely, for restore and for the fuzz target.

#include <nlohmann/json.hpp>
#include <vector>

#include "vmm/virtio/device.h"
#include "vmm/virtio/mmio_transport_state.h"

namespace vmrt::vmm {

// `devices` are the devices attached, in slot order. Throws vmrt::Error
// ("the snapshot has virtio-net in slot 2, this VM has none").
std::vector<virtio::TransportState> parse_slots_state(
    const nlohmann::json& j, const std::vector<const virtio::VirtioDevice*>& devices);

}  // namespace vmrt::vmm
