#include "vmm/fuse/reply.h"

#include <cerrno>

namespace vmrt::fuse {

size_t Reply::capacity() const {
  size_t total = IoCursor(out_).remaining();
  return total < sizeof(fuse_out_header) ? 0 : total - sizeof(fuse_out_header);
}

size_t Reply::write_header(size_t body_len, int err) {
  fuse_out_header h{};
  h.len = static_cast<uint32_t>(sizeof h + body_len);
  h.error = -err;
  h.unique = unique_;
  IoCursor cursor(out_);
  return cursor.write(&h, sizeof h) ? sizeof h + body_len : 0;
}

size_t Reply::error(int err) { return write_header(0, err > 0 ? err : EIO); }

size_t Reply::ok(const void* body, size_t len) {
  if (len > capacity()) return error(ERANGE);
  IoCursor cursor(out_);
  cursor.skip(sizeof(fuse_out_header));
  cursor.write(body, len);
  return write_header(len, 0);
}

std::vector<iovec> Reply::body_segments(size_t len) {
  IoCursor cursor(out_);
  if (!cursor.skip(sizeof(fuse_out_header))) return {};
  return cursor.take(len);
}

size_t Reply::finish(size_t len) { return write_header(len, 0); }

}  // namespace vmrt::fuse
