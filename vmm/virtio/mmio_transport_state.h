#pragma once
// The state of a virtio-mmio transport in a snapshot: the registers a driver
// can see, each queue's configuration and positions, and the device's own
// state (VirtioDevice::save_state), as nlohmann::json. A snapshot file is
// untrusted input, so parse_transport_state() checks everything against the
// device it is restored into and is pure (no device is touched): the fuzz
// target drives it directly.
//
// The JSON document:
//   { "device_type": 19, "status": 15, "device_features_sel": 1,
//     "driver_features_sel": 1, "driver_features": <u64>, "queue_sel": 2,
//     "interrupt_status": 0, "config_generation": 0, "activated": true,
//     "queues": [ { "size": 256, "ready": true, "desc_table": <u64>,
//                   "avail_ring": <u64>, "used_ring": <u64>,
//                   "next_avail": 5, "next_used": 5, "signalled_used": 5,
//                   "signalled_valid": true },
//                 { "size": 256, "ready": false } ],
//     "device": <VirtioDevice::save_state()> }
// A queue the driver did not enable has its size only: its ring addresses
// can no longer matter once the driver has set DRIVER_OK, and a device whose
// driver is still setting it up is not snapshotted. The ring features
// (EVENT_IDX, INDIRECT_DESC) follow from driver_features.

#include <linux/virtio_config.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "vmm/virtio/device.h"
#include "vmm/virtio/queue.h"
#include "vmm/virtio/virtio_ring_abi.h"

namespace vmrt::vmm::virtio {

// Ring features every device gets from the virtio-mmio transport.
inline constexpr uint64_t kTransportFeatures = (1ull << VIRTIO_F_VERSION_1) |
                                               (1ull << VIRTIO_RING_F_EVENT_IDX) |
                                               (1ull << VIRTIO_RING_F_INDIRECT_DESC);

struct QueueState {
  uint16_t size = 0;
  bool ready = false;
  // Only for a ready queue.
  uint64_t desc_table = 0;
  uint64_t avail_ring = 0;
  uint64_t used_ring = 0;
  QueuePositions positions;
};

struct TransportState {
  uint32_t device_type = 0;
  uint32_t status = 0;
  uint32_t device_features_sel = 0;
  uint32_t driver_features_sel = 0;
  uint64_t driver_features = 0;
  uint32_t queue_sel = 0;
  uint32_t interrupt_status = 0;
  uint32_t config_generation = 0;
  // The device serves its queues (the driver set DRIVER_OK).
  bool activated = false;
  std::vector<QueueState> queues;
  nlohmann::json device;  // VirtioDevice::save_state()
};

// "virtio-net", "virtio-vsock", "virtio-fs", or "virtio device <type>".
std::string device_name(uint32_t device_type);

nlohmann::json transport_state_to_json(const TransportState& state);

// Reads and checks `j` as the state of a transport for `device`: the same
// device type and number of queues, each queue's size a power of two no
// larger than the device allows, ring addresses aligned and only for ready
// queues, no chain in flight, accepted features offered, a status a driver
// can reach. Throws vmrt::Error naming what is wrong.
TransportState parse_transport_state(const nlohmann::json& j, const VirtioDevice& device);

}  // namespace vmrt::vmm::virtio
