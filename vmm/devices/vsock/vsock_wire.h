#pragma once
// virtio-vsock packet headers (linux/virtio_vsock.h): reading a guest's
// header out of a TX chain with every field checked, and building the
// headers the device sends.

#include <linux/virtio_vsock.h>
#include <linux/vm_sockets.h>

#include <cstdint>
#include <string>

#include "vmm/virtio/queue.h"

namespace vmrt::vmm::vsock {

constexpr uint64_t kHostCid = VMADDR_CID_HOST;
constexpr size_t kHeaderSize = sizeof(virtio_vsock_hdr);
// Linux never sends more per packet (VIRTIO_VSOCK_MAX_PKT_BUF_SIZE); a larger
// len is a broken or hostile driver.
constexpr uint32_t kMaxPayload = 64 * 1024;

// The header of a guest packet, or why it is unacceptable. A packet that is
// not from `guest_cid` to the host, or whose len does not fit the chain, is
// refused: the guest must not forge addresses or make the device over-read.
struct TxHeader {
  virtio_vsock_hdr hdr{};
  std::string error;  // empty when the header is usable
};
TxHeader read_tx_header(const virtio::DescriptorChain& chain, uint64_t guest_cid);

// A header from the host side (src = host:local_port) to the guest.
virtio_vsock_hdr make_header(uint64_t guest_cid, uint32_t local_port, uint32_t peer_port,
                             uint16_t op, uint32_t flags = 0, uint32_t len = 0);

const char* op_name(uint16_t op);

}  // namespace vmrt::vmm::vsock
