#pragma once
// What the virtio-net device passed on, and what it could not: read by
// tests, logs and the control socket, written by the device thread.

#include <atomic>
#include <cstdint>

namespace vmrt::vmm::net {

struct NetCounters {
  std::atomic<uint64_t> tx_frames{0};
  // Bytes of those frames (Ethernet header on, virtio-net header off).
  std::atomic<uint64_t> tx_bytes{0};
  // Guest chains refused by parse_tx_chain (malformed or over the limits).
  std::atomic<uint64_t> tx_dropped{0};
  // Frames the tap refused (interface down, a header the kernel rejects).
  std::atomic<uint64_t> tx_errors{0};
  std::atomic<uint64_t> rx_frames{0};
  // Bytes of those frames, as tx_bytes.
  std::atomic<uint64_t> rx_bytes{0};
  // Frames larger than the guest's buffers could ever hold.
  std::atomic<uint64_t> rx_dropped{0};
  // Receive chains that cannot take a frame (read-only, shorter than a
  // header): returned unused.
  std::atomic<uint64_t> rx_bad_buffers{0};
};

}  // namespace vmrt::vmm::net
