#pragma once
// What the virtio-mem device was asked and how it answered: read by the
// VMM's control socket, tests and logs, written by the device's worker
// thread. The plugged size itself is the region's (HotplugRegion).

#include <atomic>
#include <cstdint>

namespace vmrt::vmm::mem {

struct MemCounters {
  std::atomic<uint64_t> plug_requests{0};
  std::atomic<uint64_t> unplug_requests{0};
  std::atomic<uint64_t> unplug_all_requests{0};
  std::atomic<uint64_t> state_requests{0};
  // Requests answered VIRTIO_MEM_RESP_NACK (a plug past requested_size).
  std::atomic<uint64_t> nacks{0};
  // Requests answered VIRTIO_MEM_RESP_ERROR (bad range, wrong block state,
  // unknown type).
  std::atomic<uint64_t> errors{0};
  // Chains too short for a request and its response: given back unanswered.
  std::atomic<uint64_t> malformed{0};
};

}  // namespace vmrt::vmm::mem
