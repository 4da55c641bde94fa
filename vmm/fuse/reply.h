#pragma once
// Builds one FUSE reply in the writable buffers: a fuse_out_header followed
// by the body. The buffers are the caller's (guest memory in virtio-fs), so
// a reply that does not fit is never written past their end: the request
// gets an error reply instead (ERANGE for a body that does not fit, nothing
// at all when not even the header fits).

#include <linux/fuse.h>

#include <cstddef>
#include <span>

#include "vmm/fuse/io_cursor.h"

namespace vmrt::fuse {

class Reply {
 public:
  Reply(std::span<const iovec> out, uint64_t unique) : out_(out), unique_(unique) {}

  // Room for the body after the header.
  size_t capacity() const;

  // Each returns the number of bytes written into the buffers.
  size_t error(int err);  // err > 0, sent as -err
  size_t ok() { return ok(nullptr, 0); }
  size_t ok(const void* body, size_t len);
  template <typename T>
  size_t ok(const T& body) {
    return ok(&body, sizeof body);
  }
  // The body as segments of the caller's buffers, up to `len` bytes (at most
  // capacity()), for data that is read straight into them; finish() then
  // writes the header for the `len` bytes that were placed.
  std::vector<iovec> body_segments(size_t len);
  size_t finish(size_t len);

 private:
  size_t write_header(size_t body_len, int err);

  std::span<const iovec> out_;
  uint64_t unique_;
};

}  // namespace vmrt::fuse
