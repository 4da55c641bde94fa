#pragma once
// The register side of a simulated virtio driver: what a guest kernel writes
// to a virtio-mmio block to bring a device up (virtio 1.x, 3.1.1), with the
// rings laid out by one VirtioDriver per queue.

#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>

#include <cstdint>
#include <vector>

#include "tests/support/virtio_driver.h"
#include "vmm/virtio/mmio_transport.h"

namespace vmrt::vmm::test {

inline uint32_t mmio_read(virtio::MmioTransport& t, uint64_t off) {
  uint32_t v = 0;
  t.read(off, {reinterpret_cast<uint8_t*>(&v), 4});
  return v;
}
inline void mmio_write(virtio::MmioTransport& t, uint64_t off, uint32_t v) {
  t.write(off, {reinterpret_cast<uint8_t*>(&v), 4});
}

// Negotiates `features` and configures queue i from queues[i]; `before_ok`
// runs just before DRIVER_OK (e.g. to post receive buffers). Returns the
// device status afterwards.
template <typename Fn = void (*)()>
uint32_t bring_up(
    virtio::MmioTransport& t, const std::vector<VirtioDriver*>& queues,
    uint64_t features = 1ull << VIRTIO_F_VERSION_1, Fn before_ok = [] {}) {
  constexpr uint32_t kDriver = VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER;
  mmio_write(t, VIRTIO_MMIO_STATUS, kDriver);
  mmio_write(t, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
  mmio_write(t, VIRTIO_MMIO_DRIVER_FEATURES, static_cast<uint32_t>(features));
  mmio_write(t, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
  mmio_write(t, VIRTIO_MMIO_DRIVER_FEATURES, static_cast<uint32_t>(features >> 32));
  mmio_write(t, VIRTIO_MMIO_STATUS, kDriver | VIRTIO_CONFIG_S_FEATURES_OK);
  for (uint32_t q = 0; q < queues.size(); ++q) {
    mmio_write(t, VIRTIO_MMIO_QUEUE_SEL, q);
    mmio_write(t, VIRTIO_MMIO_QUEUE_NUM, queues[q]->size());
    mmio_write(t, VIRTIO_MMIO_QUEUE_DESC_LOW, static_cast<uint32_t>(queues[q]->desc_table()));
    mmio_write(t, VIRTIO_MMIO_QUEUE_AVAIL_LOW, static_cast<uint32_t>(queues[q]->avail_ring()));
    mmio_write(t, VIRTIO_MMIO_QUEUE_USED_LOW, static_cast<uint32_t>(queues[q]->used_ring()));
    mmio_write(t, VIRTIO_MMIO_QUEUE_READY, 1);
  }
  before_ok();
  mmio_write(t, VIRTIO_MMIO_STATUS,
             kDriver | VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK);
  return mmio_read(t, VIRTIO_MMIO_STATUS);
}

}  // namespace vmrt::vmm::test
