// Attributes: GETATTR, SETATTR, STATFS, ACCESS.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "vmm/fuse/creds.h"
#include "vmm/fuse/passthrough.h"

namespace vmrt::fuse {
namespace {

int stat_inode(const Inode& inode, struct stat& st) {
  return fstatat(inode.fd.get(), "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) == 0 ? 0
                                                                                    : last_errno();
}

timespec time_arg(uint32_t valid, uint32_t set_bit, uint32_t now_bit, uint64_t sec, uint32_t nsec) {
  if (valid & now_bit) return {0, UTIME_NOW};
  if (valid & set_bit) return {static_cast<time_t>(sec), static_cast<long>(nsec)};
  return {0, UTIME_OMIT};
}

}  // namespace

size_t Passthrough::getattr(Request& req, Reply& reply) {
  auto inode = node(req);
  if (!inode) return reply.error(ENOENT);
  struct stat st;
  if (int err = stat_inode(*inode, st)) return reply.error(err);
  fuse_attr_out out;
  fill_attr_out(st, out);
  return reply.ok(out);
}

size_t Passthrough::setattr(Request& req, Reply& reply) {
  auto inode = node(req);
  if (!inode) return reply.error(ENOENT);
  fuse_setattr_in in;
  if (!req.read(in)) return reply.error(EINVAL);
  // The open file the guest names, when it names one: it must be this inode's.
  std::shared_ptr<OpenFile> file;
  if (in.valid & FATTR_FH) {
    file = files_.get(in.fh);
    if (!file || file->inode != inode) return reply.error(EBADF);
  }
  if (in.valid & FATTR_MODE) {
    int rc = file ? fchmod(file->fd.get(), in.mode & 07777)
                  : fchmodat(proc_fd_.get(), std::to_string(inode->fd.get()).c_str(),
                             in.mode & 07777, 0);
    if (rc != 0) return reply.error(last_errno());
  }
  if (in.valid & (FATTR_UID | FATTR_GID)) {
    uid_t uid = (in.valid & FATTR_UID) ? in.uid : static_cast<uid_t>(-1);
    gid_t gid = (in.valid & FATTR_GID) ? in.gid : static_cast<gid_t>(-1);
    if (fchownat(inode->fd.get(), "", uid, gid, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) != 0)
      return reply.error(last_errno());
  }
  if (in.valid & FATTR_SIZE) {
    if (in.size > static_cast<uint64_t>(INT64_MAX)) return reply.error(EFBIG);
    if (inode->type == S_IFDIR) return reply.error(EISDIR);
    if (inode->type != S_IFREG) return reply.error(EINVAL);
    int rc;
    if (file) {
      rc = ftruncate(file->fd.get(), static_cast<off_t>(in.size));
    } else {
      int fd = reopen(*inode, O_WRONLY);
      if (fd < 0) return reply.error(-fd);
      UniqueFd owned(fd);
      rc = ftruncate(fd, static_cast<off_t>(in.size));
    }
    if (rc != 0) return reply.error(last_errno());
  }
  if (in.valid & (FATTR_ATIME | FATTR_MTIME | FATTR_ATIME_NOW | FATTR_MTIME_NOW)) {
    timespec times[2] = {time_arg(in.valid, FATTR_ATIME, FATTR_ATIME_NOW, in.atime, in.atimensec),
                         time_arg(in.valid, FATTR_MTIME, FATTR_MTIME_NOW, in.mtime, in.mtimensec)};
    for (const timespec& t : times)
      if (t.tv_nsec != UTIME_NOW && t.tv_nsec != UTIME_OMIT && t.tv_nsec >= 1000000000)
        return reply.error(EINVAL);
    int rc = file ? futimens(file->fd.get(), times)
                  : utimensat(inode->fd.get(), "", times, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW);
    if (rc != 0) return reply.error(last_errno());
  }
  return getattr(req, reply);
}

size_t Passthrough::statfs(Request& req, Reply& reply) {
  auto inode = node(req);
  if (!inode) return reply.error(ENOENT);
  struct statfs sf;
  if (fstatfs(inode->fd.get(), &sf) != 0) return reply.error(last_errno());
  fuse_statfs_out out{};
  out.st.blocks = sf.f_blocks;
  out.st.bfree = sf.f_bfree;
  out.st.bavail = sf.f_bavail;
  out.st.files = sf.f_files;
  out.st.ffree = sf.f_ffree;
  out.st.bsize = static_cast<uint32_t>(sf.f_bsize);
  out.st.namelen = static_cast<uint32_t>(sf.f_namelen);
  out.st.frsize = static_cast<uint32_t>(sf.f_frsize);
  return reply.ok(out);
}

size_t Passthrough::access(Request& req, Reply& reply) {
  auto inode = node(req);
  if (!inode) return reply.error(ENOENT);
  fuse_access_in in;
  if (!req.read(in)) return reply.error(EINVAL);
  if (in.mask & ~static_cast<uint32_t>(R_OK | W_OK | X_OK)) return reply.error(EINVAL);
  // Checked as the caller: the thread's filesystem ids and capabilities are
  // the caller's for the call, and AT_EACCESS makes faccessat use them.
  CallerCreds creds(switch_creds(), req.header.uid, req.header.gid);
  if (faccessat(inode->fd.get(), "", static_cast<int>(in.mask), AT_EMPTY_PATH | AT_EACCESS) != 0)
    return reply.error(last_errno());
  return reply.ok();
}

}  // namespace vmrt::fuse
