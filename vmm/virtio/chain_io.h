#pragma once
// Byte-level access to the segments of a descriptor chain: a request header
// may be split across descriptors at any byte, and payloads go straight
// between guest memory and host fds through iovecs (no bounce buffer).

#include <sys/uio.h>

#include <cstdint>
#include <span>
#include <vector>

#include "vmm/virtio/queue.h"

namespace vmrt::vmm::virtio {

// Copies up to out.size() bytes starting `offset` bytes into `segs`;
// returns how many were available.
size_t copy_from_segments(std::span<const Segment> segs, size_t offset, std::span<uint8_t> out);
// Copies `in` into `segs` from `offset`; returns how many bytes fitted.
size_t copy_to_segments(std::span<const Segment> segs, size_t offset, std::span<const uint8_t> in);
// iovecs for at most `max_len` bytes of `segs` from `offset`.
std::vector<iovec> segment_iovecs(std::span<const Segment> segs, size_t offset, size_t max_len);

}  // namespace vmrt::vmm::virtio
