#pragma once
// virtio-net (device type 1): one receive/transmit queue pair on a host tap
// (tap.h), the guest's MAC address in the configuration space and the link
// always up. Offered: VIRTIO_NET_F_MAC, STATUS, MRG_RXBUF, and with a
// vnet-header tap the checksum and TSO offloads both ways (the receive-side
// ones as far as the tap's TUNSETOFFLOAD accepts them). No control queue,
// no multiqueue.

#include <cstdint>
#include <memory>
#include <optional>

#include "vmm/devices/net/counters.h"
#include "vmm/devices/net/mac_address.h"
#include "vmm/devices/net/tap.h"
#include "vmm/virtio/device.h"

namespace vmrt::vmm::net {

class NetWorker;

struct NetConfig {
  TapFd tap;  // from open_tap() or adopt_tap()
  MacAddress mac;
};

class NetDevice : public virtio::VirtioDevice {
 public:
  static constexpr uint16_t kQueueSize = 256;

  explicit NetDevice(NetConfig config);
  ~NetDevice() override;

  uint32_t device_type() const override;
  uint64_t device_features() const override;
  std::vector<uint16_t> queue_max_sizes() const override { return {kQueueSize, kQueueSize}; }
  void read_config(uint64_t offset, std::span<uint8_t> data) const override;
  void activate(virtio::ActivateContext context) override;
  void reset() override;
  // Snapshots: the receive buffers the device holds go back to the ring.
  // The MAC is configuration space: a restored VM keeps the one its driver
  // read when the snapshot's VM booted; the guest agent sets the pod's
  // address on the interface after a restore. Nothing device-specific is
  // saved.
  std::vector<virtio::QueuePositions> quiesce(std::span<const virtio::Queue> configured) override;
  void resume() override;

  const NetCounters& counters() const noexcept { return counters_; }

 private:
  NetConfig config_;
  NetCounters counters_;
  std::unique_ptr<NetWorker> worker_;
  // Between quiesce() and resume(): what the stopped worker served.
  std::optional<virtio::ActivateContext> quiesced_;
};

}  // namespace vmrt::vmm::net
