#pragma once
// virtio-mem requests (linux/virtio_mem.h): reading a guest's request out of
// a chain, and turning its address and block count into a range of the
// device's blocks with every bound checked. Both are pure functions of
// their input, for the device and its fuzz target.

#include <linux/virtio_mem.h>

#include <cstdint>
#include <optional>
#include <string>

#include "vmm/virtio/queue.h"

namespace vmrt::vmm::mem {

constexpr size_t kRequestSize = sizeof(virtio_mem_req);
constexpr size_t kResponseSize = sizeof(virtio_mem_resp);

// The request of a chain, or why the chain cannot carry one: fewer readable
// bytes than a request or fewer writable bytes than a response. (Extra
// bytes are ignored, as the spec lets a device do.)
struct ParsedRequest {
  virtio_mem_req req{};
  std::string error;  // empty when req is usable
};
ParsedRequest read_request(const virtio::DescriptorChain& chain);

// The device's geometry as the driver sees it in the configuration.
struct MemGeometry {
  uint64_t addr;                // region start, block-aligned
  uint64_t usable_region_size;  // a multiple of block_size
  uint64_t block_size;          // a power of two
};

// Blocks [first, first + count) of the region.
struct BlockRange {
  uint64_t first;
  uint64_t count;
};

// The blocks [addr, addr + nb_blocks * block_size) cover, or nullopt when
// addr is not block-aligned, nb_blocks is 0, or the range leaves the usable
// region (or would overflow getting there).
std::optional<BlockRange> block_range(const MemGeometry& g, uint64_t addr, uint64_t nb_blocks);

const char* request_name(uint16_t type);

}  // namespace vmrt::vmm::mem
