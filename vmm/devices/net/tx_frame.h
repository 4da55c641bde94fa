#pragma once
// One guest transmit chain taken apart: its virtio-net header, copied out of
// guest memory once and checked against the negotiated features, and the
// frame behind it as iovecs for writev. A chain that breaks the rules (too
// short or too long, device-writable buffers, offloads the device did not
// offer) is refused with the reason; the device drops it and counts.

#include <limits.h>
#include <sys/uio.h>

#include <cstdint>
#include <string>
#include <vector>

#include "vmm/devices/net/frame_limits.h"
#include "vmm/virtio/queue.h"

namespace vmrt::vmm::net {

struct TxFrame {
  virtio_net_hdr_v1 hdr{};  // num_buffers zeroed: it means nothing on transmit
  std::vector<iovec> frame;
  size_t frame_len = 0;
  std::string error;  // empty when the frame may be sent
};

// `features`: what the driver accepted (VIRTIO_NET_F_CSUM, HOST_TSO4/6 decide
// which header flags and GSO types are allowed).
TxFrame parse_tx_chain(const virtio::DescriptorChain& chain, uint64_t features);

}  // namespace vmrt::vmm::net
