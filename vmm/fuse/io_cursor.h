#pragma once
// A position in a scatter-gather list. FUSE requests and replies travel in
// lists of buffers that may split any field at any byte (virtio-fs hands over
// the guest memory segments of one descriptor chain), so every header, name
// and payload is copied or sliced through this cursor, which never steps past
// the end of the list or past the length it was limited to.

#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace vmrt::fuse {

class IoCursor {
 public:
  IoCursor() = default;
  // `limit` caps the bytes reachable through the cursor (a request's own
  // length when its buffers are larger).
  explicit IoCursor(std::span<const iovec> iov, size_t limit = SIZE_MAX);

  size_t remaining() const noexcept { return remaining_; }

  // Copies the next `n` bytes out (read) or in (write) and moves past them.
  // When fewer than `n` remain nothing is copied and the result is false.
  bool read(void* dst, size_t n);
  bool write(const void* src, size_t n);
  bool skip(size_t n);

  // Reads up to and including a NUL byte found within the next `max` + 1
  // bytes; `out` gets the bytes before it. False (position unchanged) when
  // no NUL is found there.
  bool read_cstring(std::string& out, size_t max);

  // The next `n` bytes as a list of segments (no copy), moved past; `n` must
  // not exceed remaining(). For preadv/pwritev straight into or out of the
  // caller's buffers.
  std::vector<iovec> take(size_t n);

 private:
  // Visits the next `n` bytes segment by segment, moving past them.
  template <typename Fn>
  void walk(size_t n, Fn&& fn);

  std::span<const iovec> iov_;
  size_t index_ = 0;   // current segment
  size_t offset_ = 0;  // position inside it
  size_t remaining_ = 0;
};

}  // namespace vmrt::fuse
