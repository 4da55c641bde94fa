// Extended attributes: GETXATTR, SETXATTR, LISTXATTR, REMOVEXATTR. The
// xattr calls take a path, not a descriptor without I/O rights, so they go
// through /proc/self/fd/N: the magic link lands on the held inode itself and
// is not resolved further, symlinks included.
#include <linux/limits.h>
#include <sys/xattr.h>

#include <algorithm>

#include "vmm/fuse/passthrough.h"

namespace vmrt::fuse {
namespace {

// A value or name list of `want` bytes (0: only its size) as a reply.
template <typename Call>
size_t reply_sized(Reply& reply, uint32_t want, Call&& call) {
  if (want == 0) {
    ssize_t n = call(nullptr, 0);
    if (n < 0) return reply.error(last_errno());
    fuse_getxattr_out out{};
    out.size = static_cast<uint32_t>(n);
    return reply.ok(out);
  }
  size_t cap = std::min<size_t>({want, XATTR_SIZE_MAX, reply.capacity()});
  std::vector<char> buf(cap);
  ssize_t n = call(buf.data(), buf.size());
  if (n < 0) return reply.error(last_errno());
  return reply.ok(buf.data(), static_cast<size_t>(n));
}

}  // namespace

size_t Passthrough::getxattr(Request& req, Reply& reply) {
  auto inode = node(req);
  if (!inode) return reply.error(ENOENT);
  fuse_getxattr_in in;
  std::string name;
  if (!req.read(in)) return reply.error(EINVAL);
  if (int err = req.read_string(name, XATTR_NAME_MAX))
    return reply.error(err == EINVAL ? EINVAL : ERANGE);
  std::string path = proc_path(*inode);
  return reply_sized(reply, in.size, [&](char* buf, size_t len) {
    return ::getxattr(path.c_str(), name.c_str(), buf, len);
  });
}

size_t Passthrough::listxattr(Request& req, Reply& reply) {
  auto inode = node(req);
  if (!inode) return reply.error(ENOENT);
  fuse_getxattr_in in;
  if (!req.read(in)) return reply.error(EINVAL);
  std::string path = proc_path(*inode);
  return reply_sized(reply, in.size,
                     [&](char* buf, size_t len) { return ::listxattr(path.c_str(), buf, len); });
}

size_t Passthrough::setxattr(Request& req, Reply& reply) {
  auto inode = node(req);
  if (!inode) return reply.error(ENOENT);
  // Without FUSE_SETXATTR_EXT (not offered) the kernel sends the short
  // form: size and flags only.
  fuse_setxattr_in in{};
  std::string name;
  if (!req.args.read(&in, FUSE_COMPAT_SETXATTR_IN_SIZE)) return reply.error(EINVAL);
  if (int err = req.read_string(name, XATTR_NAME_MAX))
    return reply.error(err == EINVAL ? EINVAL : ERANGE);
  if (in.size > XATTR_SIZE_MAX) return reply.error(E2BIG);
  std::vector<char> value(in.size);
  if (!req.args.read(value.data(), value.size())) return reply.error(EINVAL);
  if (::setxattr(proc_path(*inode).c_str(), name.c_str(), value.data(), value.size(),
                 static_cast<int>(in.flags)) != 0)
    return reply.error(last_errno());
  return reply.ok();
}

size_t Passthrough::removexattr(Request& req, Reply& reply) {
  auto inode = node(req);
  if (!inode) return reply.error(ENOENT);
  std::string name;
  if (int err = req.read_string(name, XATTR_NAME_MAX))
    return reply.error(err == EINVAL ? EINVAL : ERANGE);
  if (::removexattr(proc_path(*inode).c_str(), name.c_str()) != 0) return reply.error(last_errno());
  return reply.ok();
}

}  // namespace vmrt::fuse
