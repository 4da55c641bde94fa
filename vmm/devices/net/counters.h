#pragma once
// What the virtio-net device did with frames it could not pass on: read by
// tests and logs, written by the device thread.

#include <atomic>
#include <cstdint>

namespace vmrt::vmm::net {

struct NetCounters {
  std::atomic<uint64_t> tx_frames{0};
  // Guest chains refused by parse_tx_chain (malformed or over the limits).
  std::atomic<uint64_t> tx_dropped{0};
  // Frames the tap refused (interface down, a header the kernel rejects).
  std::atomic<uint64_t> tx_errors{0};
  std::atomic<uint64_t> rx_frames{0};
  // Frames larger than the guest's buffers could ever hold.
  std::atomic<uint64_t> rx_dropped{0};
  // Receive chains that cannot take a frame (read-only, shorter than a
  // header): returned unused.
  std::atomic<uint64_t> rx_bad_buffers{0};
};

}  // namespace vmrt::vmm::net
