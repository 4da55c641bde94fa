#include "vmm/devices/net/tx_frame.h"

#include <endian.h>
#include <fmt/format.h>

#include "vmm/virtio/chain_io.h"

namespace vmrt::vmm::net {

namespace {

bool has(uint64_t features, unsigned bit) { return features & (1ull << bit); }

// Why the header cannot go to the tap as it is, or empty.
std::string check_header(const virtio_net_hdr_v1& h, size_t frame_len, uint64_t features) {
  // DATA_VALID and RSC_INFO are for the receive side only (virtio 1.x 5.1.6.2).
  if (h.flags & ~VIRTIO_NET_HDR_F_NEEDS_CSUM)
    return fmt::format("header flags {:#x} are not allowed on transmit", h.flags);
  if (h.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
    if (!has(features, VIRTIO_NET_F_CSUM))
      return "checksum offload requested without VIRTIO_NET_F_CSUM";
    size_t end = size_t{le16toh(h.csum_start)} + le16toh(h.csum_offset) + 2;
    if (end > frame_len)
      return fmt::format("checksum at {}+{} is past the {}-byte frame", le16toh(h.csum_start),
                         le16toh(h.csum_offset), frame_len);
  }
  if (h.gso_type & VIRTIO_NET_HDR_GSO_ECN) return "GSO with ECN was not offered";
  switch (h.gso_type) {
    case VIRTIO_NET_HDR_GSO_NONE:
      return {};
    case VIRTIO_NET_HDR_GSO_TCPV4:
      if (!has(features, VIRTIO_NET_F_HOST_TSO4)) return "TSO4 without VIRTIO_NET_F_HOST_TSO4";
      break;
    case VIRTIO_NET_HDR_GSO_TCPV6:
      if (!has(features, VIRTIO_NET_F_HOST_TSO6)) return "TSO6 without VIRTIO_NET_F_HOST_TSO6";
      break;
    default:
      return fmt::format("GSO type {:#x} was not offered", h.gso_type);
  }
  // Segmentation needs the checksum to be filled in per segment.
  if (!(h.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)) return "GSO frame without NEEDS_CSUM";
  if (le16toh(h.gso_size) == 0) return "GSO frame with a segment size of 0";
  if (le16toh(h.hdr_len) > frame_len)
    return fmt::format("GSO header length {} is past the {}-byte frame", le16toh(h.hdr_len),
                       frame_len);
  return {};
}

}  // namespace

TxFrame parse_tx_chain(const virtio::DescriptorChain& chain, uint64_t features) {
  TxFrame out;
  if (!chain.writable.empty()) {
    out.error = "transmit chain has device-writable buffers";
    return out;
  }
  if (chain.readable_len < kHeaderSize + kMinFrameLen) {
    out.error = fmt::format("transmit chain of {} bytes is shorter than a header and a frame",
                            chain.readable_len);
    return out;
  }
  out.frame_len = chain.readable_len - kHeaderSize;
  if (out.frame_len > kMaxFrameLen) {
    out.error = fmt::format("frame of {} bytes is over {}", out.frame_len, kMaxFrameLen);
    return out;
  }
  virtio::copy_from_segments(chain.readable, 0,
                             {reinterpret_cast<uint8_t*>(&out.hdr), kHeaderSize});
  out.hdr.num_buffers = 0;
  out.error = check_header(out.hdr, out.frame_len, features);
  if (!out.error.empty()) return out;
  out.frame = virtio::segment_iovecs(chain.readable, kHeaderSize, out.frame_len);
  // writev takes at most IOV_MAX pieces, and one more goes to the header.
  if (out.frame.size() >= IOV_MAX) {
    out.error = fmt::format("frame in {} pieces is over {}", out.frame.size(), IOV_MAX - 1);
    out.frame.clear();
  }
  return out;
}

}  // namespace vmrt::vmm::net
