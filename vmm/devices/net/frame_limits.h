#pragma once
// Sizes every part of the virtio-net device agrees on.

#include <linux/if_ether.h>

#include <cstddef>

#include "vmm/devices/net/net_wire.h"

namespace vmrt::vmm::net {

// With VIRTIO_F_VERSION_1 the header always has num_buffers: 12 bytes, on
// both queues and on the tap (TUNSETVNETHDRSZ).
constexpr size_t kHeaderSize = sizeof(virtio_net_hdr_v1);
// The largest frame either side may send: a 64 KiB TSO/GSO packet plus its
// Ethernet and VLAN headers. Anything longer is not a frame a tap or a Linux
// driver produces.
constexpr size_t kMaxFrameLen = 65535 + ETH_HLEN + 4;
// Frames shorter than an Ethernet header cannot be delivered anywhere.
constexpr size_t kMinFrameLen = ETH_HLEN;

}  // namespace vmrt::vmm::net
