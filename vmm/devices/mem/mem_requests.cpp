#include "vmm/devices/mem/mem_requests.h"

#include <endian.h>
#include <spdlog/spdlog.h>

#include "vmm/devices/mem/mem_wire.h"

namespace vmrt::vmm::mem {

namespace {

virtio_mem_resp reply(uint16_t type, uint16_t state = 0) {
  virtio_mem_resp r{};
  r.type = htole16(type);
  r.u.state.state = htole16(state);
  return r;
}

virtio_mem_resp error(MemCounters& c, const char* what, uint64_t addr, uint64_t nb_blocks) {
  ++c.errors;
  spdlog::debug("virtio-mem: {} of {:#x}+{} blocks refused", what, addr, nb_blocks);
  return reply(VIRTIO_MEM_RESP_ERROR);
}

}  // namespace

virtio_mem_resp handle_request(const virtio_mem_req& req, HotplugRegion& region,
                               uint64_t requested_size, MemCounters& c) {
  const MemGeometry g{region.gpa(), region.size(), HotplugRegion::kBlockSize};
  const uint16_t type = le16toh(req.type);
  // plug, unplug and state share one layout: addr, nb_blocks.
  const uint64_t addr = le64toh(req.u.plug.addr);
  const uint64_t nb_blocks = le16toh(req.u.plug.nb_blocks);
  switch (type) {
    case VIRTIO_MEM_REQ_PLUG: {
      ++c.plug_requests;
      auto r = block_range(g, addr, nb_blocks);
      if (!r || !region.none_plugged(r->first, r->count)) return error(c, "PLUG", addr, nb_blocks);
      // Both sides are bounded by the region's size: no overflow.
      if (region.plugged_bytes() + r->count * g.block_size > requested_size) {
        ++c.nacks;
        return reply(VIRTIO_MEM_RESP_NACK);
      }
      region.plug(r->first, r->count);
      return reply(VIRTIO_MEM_RESP_ACK);
    }
    case VIRTIO_MEM_REQ_UNPLUG: {
      ++c.unplug_requests;
      auto r = block_range(g, addr, nb_blocks);
      if (!r || !region.all_plugged(r->first, r->count)) return error(c, "UNPLUG", addr, nb_blocks);
      region.unplug(r->first, r->count);
      return reply(VIRTIO_MEM_RESP_ACK);
    }
    case VIRTIO_MEM_REQ_UNPLUG_ALL:
      ++c.unplug_all_requests;
      region.unplug_all();
      return reply(VIRTIO_MEM_RESP_ACK);
    case VIRTIO_MEM_REQ_STATE: {
      ++c.state_requests;
      auto r = block_range(g, addr, nb_blocks);
      if (!r) return error(c, "STATE", addr, nb_blocks);
      uint16_t state = region.all_plugged(r->first, r->count)    ? VIRTIO_MEM_STATE_PLUGGED
                       : region.none_plugged(r->first, r->count) ? VIRTIO_MEM_STATE_UNPLUGGED
                                                                 : VIRTIO_MEM_STATE_MIXED;
      return reply(VIRTIO_MEM_RESP_ACK, state);
    }
    default:
      return error(c, request_name(type), addr, nb_blocks);
  }
}

}  // namespace vmrt::vmm::mem
