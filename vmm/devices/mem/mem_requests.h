#pragma once
// The virtio-mem device's state machine (virtio 1.2, 5.15.6.2): one guest
// request against the hotplug region's plugged bitmap, answered as the
// spec says:
//   PLUG     ACK; ERROR for a bad range or a block already plugged; NACK
//            when plugged_size would pass requested_size
//   UNPLUG   ACK; ERROR for a bad range or a block not plugged
//   UNPLUG_ALL  always ACK
//   STATE    ACK with PLUGGED, UNPLUGGED or MIXED; ERROR for a bad range
//   other    ERROR
// The caller serialises requests and reads of the configuration.

#include <linux/virtio_mem.h>

#include <cstdint>

#include "vmm/devices/mem/counters.h"
#include "vmm/memory/hotplug_region.h"

namespace vmrt::vmm::mem {

// `requested_size` is the configuration's, a multiple of the block size.
// Throws vmrt::Error only when the host cannot change its mappings.
virtio_mem_resp handle_request(const virtio_mem_req& req, HotplugRegion& region,
                               uint64_t requested_size, MemCounters& counters);

}  // namespace vmrt::vmm::mem
