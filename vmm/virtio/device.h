#pragma once
// What a virtio device (vsock, fs ...) provides to its transport, and what it
// receives when the driver sets DRIVER_OK. The transport owns register state
// and feature negotiation; the device owns its queues and threads from
// activate() until reset().

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <functional>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <vector>

#include "vmm/memory/guest_memory.h"
#include "vmm/virtio/interrupt.h"
#include "vmm/virtio/queue.h"

namespace vmrt::vmm::virtio {

struct ActivateContext {
  const GuestMemory& mem;
  // Configured and checked queues, in queue index order.
  std::vector<Queue> queues;
  // queue_events[i] becomes readable (an eventfd) when the driver notifies
  // queue i. Owned by the transport; valid until reset().
  std::vector<int> queue_events;
  Interrupt& interrupt;
  // The features the driver accepted.
  uint64_t features;
  // Puts the device into NEEDS_RESET with `why` logged: for a driver that
  // broke the rules. The device stops using its queues afterwards.
  std::function<void(const std::string& why)> needs_reset;
};

// A read of `data.size()` bytes at `offset` of a device configuration laid
// out as `config` (a uapi struct); bytes past its end stay as they are (the
// transport zeroes them).
template <typename Config>
void read_config_bytes(const Config& config, uint64_t offset, std::span<uint8_t> data) {
  if (offset >= sizeof config) return;
  std::memcpy(data.data(), reinterpret_cast<const uint8_t*>(&config) + offset,
              std::min<size_t>(data.size(), sizeof config - offset));
}

class VirtioDevice {
 public:
  virtual ~VirtioDevice() = default;
  // VIRTIO_ID_* from linux/virtio_ids.h.
  virtual uint32_t device_type() const = 0;
  // Device-specific feature bits; the transport adds VIRTIO_F_VERSION_1 and
  // the ring features it supports.
  virtual uint64_t device_features() const = 0;
  // One entry per queue: its maximum size (a power of two).
  virtual std::vector<uint16_t> queue_max_sizes() const = 0;
  // The device configuration space (reads past its end return zeros).
  virtual void read_config(uint64_t offset, std::span<uint8_t> data) const = 0;
  virtual void write_config(uint64_t /*offset*/, std::span<const uint8_t> /*data*/) {}
  // Added to the transport's ConfigGeneration: a device whose configuration
  // changes while the driver runs (virtio-mem's sizes) moves it with every
  // change, so that a driver reading a field in two halves notices a change
  // between them and reads again.
  virtual uint32_t config_generation() const { return 0; }
  // The driver set DRIVER_OK: start serving the queues.
  virtual void activate(ActivateContext context) = 0;
  // The driver reset the device (or the VM ends): stop serving, drop the
  // queues, and return once no device thread touches guest memory.
  virtual void reset() = 0;

  // --- snapshots (driven by MmioTransport, see mmio_transport_state.h) ---
  //
  // A snapshot is taken with the vCPUs paused. quiesce() stops the device's
  // threads so that its queues and guest memory hold still, and returns
  // where each queue stands, in queue order. A device may be snapshotted
  // only with no chain in flight (popped, not used yet), so that next_avail
  // equals next_used: it gives such chains back to the ring or refuses.
  // Throws vmrt::Error, still serving, when it cannot be snapshotted now
  // (the caller may try again). Called only while activated, on the device
  // control thread. `configured` are the queues as the driver configured
  // them (bound to guest memory, at the ring's start): for a device whose
  // queues are served elsewhere and which reads the rings' indices instead.
  // The default refuses: a device must say how it stops.
  virtual std::vector<QueuePositions> quiesce(std::span<const Queue> configured);
  // Serves the queues again after quiesce() (the snapshot is written, or it
  // failed).
  virtual void resume() {}
  // What the device keeps beyond its queues and registers, as far as a
  // restore needs it (what must match: the vsock guest CID, the fs tag).
  // null for a device with nothing to add.
  virtual nlohmann::json save_state() const { return nullptr; }
  // Takes state from save_state() of a snapshot before the transport
  // activates the device for the restored driver. Untrusted input: throws
  // vmrt::Error when it is malformed or does not fit this device. The
  // default accepts only null.
  virtual void restore_state(const nlohmann::json& state);
  // Whether activate() serves each queue from the positions its context
  // gives. A device whose queues are served elsewhere, always from the
  // ring's start, restores only queues that were never used.
  virtual bool resumes_queue_positions() const { return true; }
};

}  // namespace vmrt::vmm::virtio
