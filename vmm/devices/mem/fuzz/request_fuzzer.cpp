// libFuzzer target: the virtio-mem device's request path. The input is a
// requested size, a writable length and a guest request chain cut into
// segments at input-chosen points; the request is parsed and, if it parses,
// answered against a real (small) hotplug region that persists across
// inputs, so sequences of plugs and unplugs are explored too. Whatever the
// input, a request is refused with a reason or answered with a known
// response, and the plugged size never passes the region or a size that
// was never requested.
#include <linux/virtio_mem.h>

#include <cstdint>

#include "vmm/devices/mem/mem_requests.h"
#include "vmm/devices/mem/mem_wire.h"
#include "vmm/virtio/fuzz/chain_from_input.h"

using namespace vmrt::vmm;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 3) return 0;
  static HotplugRegion region(uint64_t{4} << 30, HotplugRegion::kAlignment);
  static mem::MemCounters counters;
  uint64_t requested = (data[0] % (region.block_count() + 1)) * HotplugRegion::kBlockSize;
  virtio::fuzz::ChainFromInput in;
  virtio::fuzz::fill_readable(in, data + 3, size - 3, data[1]);
  virtio_mem_resp resp{};
  uint32_t writable = data[2] % (2 * mem::kResponseSize);
  in.chain.writable.push_back({reinterpret_cast<uint8_t*>(&resp), writable});
  in.chain.writable_len = writable;

  mem::ParsedRequest parsed = mem::read_request(in.chain);
  if (!parsed.error.empty()) {
    if (in.chain.readable_len >= mem::kRequestSize && writable >= mem::kResponseSize)
      __builtin_trap();  // refused a well-sized chain
    return 0;
  }
  uint64_t before = region.plugged_bytes();
  virtio_mem_resp r = mem::handle_request(parsed.req, region, requested, counters);
  if (r.type != VIRTIO_MEM_RESP_ACK && r.type != VIRTIO_MEM_RESP_NACK &&
      r.type != VIRTIO_MEM_RESP_ERROR)
    __builtin_trap();
  uint64_t after = region.plugged_bytes();
  if (after > region.size()) __builtin_trap();
  // Only an acknowledged PLUG grows the plugged size, and never past the
  // requested size.
  if (after > before && (parsed.req.type != VIRTIO_MEM_REQ_PLUG || r.type != VIRTIO_MEM_RESP_ACK ||
                         after > requested))
    __builtin_trap();
  // block_range itself: an accepted range is aligned and inside the region.
  mem::MemGeometry g{region.gpa(), region.size(), HotplugRegion::kBlockSize};
  if (auto br = mem::block_range(g, parsed.req.u.plug.addr, parsed.req.u.plug.nb_blocks))
    if (br->count == 0 || br->first + br->count > region.block_count()) __builtin_trap();
  return 0;
}
