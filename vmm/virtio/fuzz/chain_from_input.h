#pragma once
// For fuzz targets of device parsers: fuzzer input as the device-readable
// part of a descriptor chain, cut into segments at input-chosen points (a
// header may be split anywhere). Each segment is its own allocation, so
// AddressSanitizer catches a read past any one of them.

#include <algorithm>
#include <cstdint>
#include <vector>

#include "vmm/virtio/queue.h"

namespace vmrt::vmm::virtio::fuzz {

struct ChainFromInput {
  std::vector<std::vector<uint8_t>> storage;  // what the segments point to
  DescriptorChain chain;
};

// `data[0, size)` in segments whose lengths follow from `seed`.
inline void fill_readable(ChainFromInput& out, const uint8_t* data, size_t size, uint8_t seed) {
  size_t pos = 0, step = 1 + (seed % 61);
  while (pos < size) {
    size_t n = std::min(step, size - pos);
    out.storage.emplace_back(data + pos, data + pos + n);
    pos += n;
    step = step * 3 % 67 + 1;
  }
  for (auto& s : out.storage) {
    out.chain.readable.push_back({s.data(), static_cast<uint32_t>(s.size())});
    out.chain.readable_len += static_cast<uint32_t>(s.size());
  }
}

}  // namespace vmrt::vmm::virtio::fuzz
