#pragma once
// What the vsock device dropped to stay within its bounds: read by tests and
// logs, written by the worker thread.

#include <atomic>
#include <cstdint>

namespace vmrt::vmm::vsock {

struct VsockCounters {
  // Resets for refused guest packets that found the control queue full (the
  // guest posts no receive buffers and keeps sending): dropped, not queued.
  std::atomic<uint64_t> control_dropped{0};
  // Guest connection requests refused while the control queue was full.
  std::atomic<uint64_t> connects_refused{0};
  // The most control packets ever waiting for a receive buffer at once.
  std::atomic<uint64_t> control_peak{0};
};

}  // namespace vmrt::vmm::vsock
