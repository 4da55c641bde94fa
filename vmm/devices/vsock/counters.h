#pragma once
// What the vsock device refused, reset and dropped to stay within its
// bounds: read by the VMM's control socket, tests and logs, written by the
// worker thread.

#include <atomic>
#include <cstdint>

namespace vmrt::vmm::vsock {

struct VsockCounters {
  // Streams refused at the kMaxStreams limit, from either side: a guest
  // REQUEST answered RST, a host client closed on accept.
  std::atomic<uint64_t> streams_refused{0};
  // RST packets queued for the guest (refused or broken streams, packets for
  // no stream), and well-formed RST packets the guest sent.
  std::atomic<uint64_t> resets_sent{0};
  std::atomic<uint64_t> resets_received{0};
  // Streams reset because the guest sent past the credit it was given.
  std::atomic<uint64_t> credit_overruns{0};
  // Resets for refused guest packets that found the control queue full (the
  // guest posts no receive buffers and keeps sending): dropped, not queued.
  std::atomic<uint64_t> control_dropped{0};
  // Guest connection requests refused while the control queue was full.
  std::atomic<uint64_t> connects_refused{0};
  // The most control packets ever waiting for a receive buffer at once.
  std::atomic<uint64_t> control_peak{0};
};

}  // namespace vmrt::vmm::vsock
