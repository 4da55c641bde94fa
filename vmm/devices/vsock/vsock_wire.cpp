#include "vmm/devices/vsock/vsock_wire.h"

#include <fmt/format.h>

#include "vmm/virtio/chain_io.h"

namespace vmrt::vmm::vsock {

TxHeader read_tx_header(const virtio::DescriptorChain& chain, uint64_t guest_cid) {
  TxHeader out;
  if (chain.readable_len < kHeaderSize) {
    out.error = fmt::format("packet of {} bytes is shorter than a header", chain.readable_len);
    return out;
  }
  virtio::copy_from_segments(chain.readable, 0,
                             {reinterpret_cast<uint8_t*>(&out.hdr), kHeaderSize});
  const auto& h = out.hdr;
  if (h.src_cid != guest_cid)
    out.error = fmt::format("source CID {} is not the guest's {}", h.src_cid, guest_cid);
  else if (h.dst_cid != kHostCid)
    out.error = fmt::format("destination CID {} is not the host", h.dst_cid);
  else if (h.len > kMaxPayload)
    out.error = fmt::format("payload length {} is over {}", h.len, kMaxPayload);
  else if (h.len > chain.readable_len - kHeaderSize)
    out.error = fmt::format("payload length {} is past the {} bytes sent", h.len,
                            chain.readable_len - kHeaderSize);
  else if (h.op != VIRTIO_VSOCK_OP_RW && h.len != 0)
    out.error = fmt::format("{} packet carries {} bytes of payload", op_name(h.op), h.len);
  return out;
}

virtio_vsock_hdr make_header(uint64_t guest_cid, uint32_t local_port, uint32_t peer_port,
                             uint16_t op, uint32_t flags, uint32_t len) {
  virtio_vsock_hdr h{};
  h.src_cid = kHostCid;
  h.dst_cid = guest_cid;
  h.src_port = local_port;
  h.dst_port = peer_port;
  h.len = len;
  h.type = VIRTIO_VSOCK_TYPE_STREAM;
  h.op = op;
  h.flags = flags;
  return h;
}

const char* op_name(uint16_t op) {
  switch (op) {
    case VIRTIO_VSOCK_OP_REQUEST:
      return "REQUEST";
    case VIRTIO_VSOCK_OP_RESPONSE:
      return "RESPONSE";
    case VIRTIO_VSOCK_OP_RST:
      return "RST";
    case VIRTIO_VSOCK_OP_SHUTDOWN:
      return "SHUTDOWN";
    case VIRTIO_VSOCK_OP_RW:
      return "RW";
    case VIRTIO_VSOCK_OP_CREDIT_UPDATE:
      return "CREDIT_UPDATE";
    case VIRTIO_VSOCK_OP_CREDIT_REQUEST:
      return "CREDIT_REQUEST";
    default:
      return "unknown op";
  }
}

}  // namespace vmrt::vmm::vsock
