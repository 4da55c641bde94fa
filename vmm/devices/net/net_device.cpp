#include "vmm/devices/net/net_device.h"

#include <endian.h>
#include <linux/if_tun.h>
#include <linux/virtio_ids.h>
#include <spdlog/spdlog.h>

#include <cstring>

#include "common/error.h"
#include "vmm/devices/net/net_wire.h"
#include "vmm/devices/net/net_worker.h"

namespace vmrt::vmm::net {

namespace {

constexpr uint64_t bit(unsigned n) { return 1ull << n; }

// Guest receive offloads and the tap offloads that produce them.
struct GuestOffload {
  unsigned feature;
  unsigned tun_flag;
};
constexpr GuestOffload kGuestOffloads[] = {
    {VIRTIO_NET_F_GUEST_CSUM, TUN_F_CSUM},
    {VIRTIO_NET_F_GUEST_TSO4, TUN_F_TSO4},
    {VIRTIO_NET_F_GUEST_TSO6, TUN_F_TSO6},
    {VIRTIO_NET_F_GUEST_UFO, TUN_F_UFO},
};

}  // namespace

NetDevice::NetDevice(NetConfig config) : config_(std::move(config)) {
  SPDLOG_DEBUG("virtio-net: tap {} ({}), mac {}, offloads {:#x}", config_.tap.name,
               config_.tap.vnet_hdr ? "vnet header" : "bare frames", format_mac(config_.mac),
               config_.tap.offloads);
}

NetDevice::~NetDevice() { reset(); }

uint32_t NetDevice::device_type() const { return VIRTIO_ID_NET; }

uint64_t NetDevice::device_features() const {
  uint64_t f = bit(VIRTIO_NET_F_MAC) | bit(VIRTIO_NET_F_STATUS) | bit(VIRTIO_NET_F_MRG_RXBUF);
  // Offloads need the header to reach the tap; bare frames carry none.
  if (!config_.tap.vnet_hdr) return f;
  // A vnet-header tap takes partial checksums and TSO from the guest as is.
  f |= bit(VIRTIO_NET_F_CSUM) | bit(VIRTIO_NET_F_HOST_TSO4) | bit(VIRTIO_NET_F_HOST_TSO6);
  for (const auto& o : kGuestOffloads)
    if (config_.tap.offloads & o.tun_flag) f |= bit(o.feature);
  return f;
}

void NetDevice::read_config(uint64_t offset, std::span<uint8_t> data) const {
  virtio_net_config cfg{};
  std::memcpy(cfg.mac, config_.mac.data(), sizeof cfg.mac);
  cfg.status = htole16(VIRTIO_NET_S_LINK_UP);
  cfg.max_virtqueue_pairs = htole16(1);
  virtio::read_config_bytes(cfg, offset, data);
}

void NetDevice::activate(virtio::ActivateContext context) {
  unsigned tun = 0;
  for (const auto& o : kGuestOffloads)
    if (context.features & bit(o.feature)) tun |= o.tun_flag;
  set_tap_offloads(config_.tap, tun);
  SPDLOG_DEBUG("virtio-net: driver ready, features {:#x}, tap offloads {:#x}", context.features,
               tun);
  worker_ = std::make_unique<NetWorker>(std::move(context), config_.tap, counters_);
}

std::vector<virtio::QueuePositions> NetDevice::quiesce(std::span<const virtio::Queue>) {
  return virtio::park_worker(worker_, quiesced_, "virtio-net");
}

void NetDevice::resume() {
  if (!quiesced_) return;
  worker_ = std::make_unique<NetWorker>(std::move(*quiesced_), config_.tap, counters_);
  quiesced_.reset();
}

void NetDevice::reset() {
  if (!worker_ && !quiesced_) return;
  worker_.reset();
  quiesced_.reset();
  // The next driver starts without offloads until it accepts them.
  try {
    set_tap_offloads(config_.tap, 0);
  } catch (const std::exception& e) {
    SPDLOG_WARN("virtio-net: {}", e.what());
  }
}

}  // namespace vmrt::vmm::net
