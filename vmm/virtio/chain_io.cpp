#include "vmm/virtio/chain_io.h"

#include <algorithm>
#include <cstring>

namespace vmrt::vmm::virtio {

namespace {
// Calls fn(pointer, length) for each piece of [offset, offset + max_len).
template <typename Fn>
size_t for_each_piece(std::span<const Segment> segs, size_t offset, size_t max_len, Fn fn) {
  size_t done = 0;
  for (const Segment& s : segs) {
    if (done == max_len) break;
    if (offset >= s.len) {
      offset -= s.len;
      continue;
    }
    size_t n = std::min<size_t>(s.len - offset, max_len - done);
    fn(s.data + offset, n, done);
    done += n;
    offset = 0;
  }
  return done;
}
}  // namespace

size_t copy_from_segments(std::span<const Segment> segs, size_t offset, std::span<uint8_t> out) {
  return for_each_piece(segs, offset, out.size(), [&](uint8_t* p, size_t n, size_t at) {
    std::memcpy(out.data() + at, p, n);
  });
}

size_t copy_to_segments(std::span<const Segment> segs, size_t offset, std::span<const uint8_t> in) {
  return for_each_piece(segs, offset, in.size(), [&](uint8_t* p, size_t n, size_t at) {
    std::memcpy(p, in.data() + at, n);
  });
}

std::vector<iovec> segment_iovecs(std::span<const Segment> segs, size_t offset, size_t max_len) {
  std::vector<iovec> iov;
  for_each_piece(segs, offset, max_len, [&](uint8_t* p, size_t n, size_t) {
    iov.push_back({p, n});
  });
  return iov;
}

}  // namespace vmrt::vmm::virtio
