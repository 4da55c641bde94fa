#include "vmm/fuse/io_cursor.h"

#include <algorithm>
#include <cstring>

namespace vmrt::fuse {

IoCursor::IoCursor(std::span<const iovec> iov, size_t limit) : iov_(iov) {
  size_t total = 0;
  for (const iovec& v : iov) {
    // A list whose lengths add up past SIZE_MAX is cut there, not wrapped.
    if (v.iov_len > SIZE_MAX - total) {
      total = SIZE_MAX;
      break;
    }
    total += v.iov_len;
  }
  remaining_ = std::min(total, limit);
}

template <typename Fn>
void IoCursor::walk(size_t n, Fn&& fn) {
  remaining_ -= n;
  while (n > 0) {
    const iovec& v = iov_[index_];
    size_t chunk = std::min(n, v.iov_len - offset_);
    if (chunk > 0) fn(static_cast<char*>(v.iov_base) + offset_, chunk);
    n -= chunk;
    offset_ += chunk;
    if (offset_ == v.iov_len) {
      ++index_;
      offset_ = 0;
    }
  }
  // Skip empty segments so that the position always names a byte.
  while (index_ < iov_.size() && iov_[index_].iov_len == offset_) {
    ++index_;
    offset_ = 0;
  }
}

bool IoCursor::read(void* dst, size_t n) {
  if (n > remaining_) return false;
  char* d = static_cast<char*>(dst);
  walk(n, [&](char* p, size_t len) {
    std::memcpy(d, p, len);
    d += len;
  });
  return true;
}

bool IoCursor::write(const void* src, size_t n) {
  if (n > remaining_) return false;
  const char* s = static_cast<const char*>(src);
  walk(n, [&](char* p, size_t len) {
    std::memcpy(p, s, len);
    s += len;
  });
  return true;
}

bool IoCursor::skip(size_t n) {
  if (n > remaining_) return false;
  walk(n, [](char*, size_t) {});
  return true;
}

bool IoCursor::read_cstring(std::string& out, size_t max) {
  // Find the NUL first without moving, then copy: a name split across
  // segments is searched segment by segment.
  size_t budget = std::min(remaining_, max + 1);
  size_t found = SIZE_MAX, seen = 0;
  for (size_t i = index_, off = offset_; i < iov_.size() && seen < budget; ++i, off = 0) {
    size_t len = std::min(iov_[i].iov_len - off, budget - seen);
    const char* p = static_cast<const char*>(iov_[i].iov_base) + off;
    if (const void* nul = std::memchr(p, 0, len)) {
      found = seen + static_cast<size_t>(static_cast<const char*>(nul) - p);
      break;
    }
    seen += len;
  }
  if (found == SIZE_MAX) return false;
  out.resize(found);
  read(out.data(), found);
  skip(1);
  return true;
}

std::vector<iovec> IoCursor::take(size_t n) {
  std::vector<iovec> out;
  n = std::min(n, remaining_);
  walk(n, [&](char* p, size_t len) { out.push_back({p, len}); });
  return out;
}

}  // namespace vmrt::fuse
