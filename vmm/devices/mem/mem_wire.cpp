#include "vmm/devices/mem/mem_wire.h"

#include <fmt/format.h>

#include "vmm/virtio/chain_io.h"

namespace vmrt::vmm::mem {

ParsedRequest read_request(const virtio::DescriptorChain& chain) {
  ParsedRequest out;
  if (chain.readable_len < kRequestSize)
    out.error =
        fmt::format("request of {} bytes is shorter than {}", chain.readable_len, kRequestSize);
  else if (chain.writable_len < kResponseSize)
    out.error = fmt::format("{} writable bytes have no room for a {}-byte response",
                            chain.writable_len, kResponseSize);
  else
    virtio::copy_from_segments(chain.readable, 0,
                               {reinterpret_cast<uint8_t*>(&out.req), kRequestSize});
  return out;
}

std::optional<BlockRange> block_range(const MemGeometry& g, uint64_t addr, uint64_t nb_blocks) {
  if (nb_blocks == 0 || addr < g.addr || (addr - g.addr) % g.block_size) return std::nullopt;
  uint64_t first = (addr - g.addr) / g.block_size;
  uint64_t usable = g.usable_region_size / g.block_size;
  // Neither side can overflow: first < usable is checked before the
  // subtraction.
  if (first >= usable || nb_blocks > usable - first) return std::nullopt;
  return BlockRange{first, nb_blocks};
}

const char* request_name(uint16_t type) {
  switch (type) {
    case VIRTIO_MEM_REQ_PLUG:
      return "PLUG";
    case VIRTIO_MEM_REQ_UNPLUG:
      return "UNPLUG";
    case VIRTIO_MEM_REQ_UNPLUG_ALL:
      return "UNPLUG_ALL";
    case VIRTIO_MEM_REQ_STATE:
      return "STATE";
    default:
      return "unknown";
  }
}

}  // namespace vmrt::vmm::mem
