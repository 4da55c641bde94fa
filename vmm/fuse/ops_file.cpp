// Open files: OPEN, CREATE, READ, WRITE, FLUSH, RELEASE, FSYNC, FALLOCATE,
// LSEEK. Data moves with preadv/pwritev straight between the file and the
// transport's buffers.
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include "vmm/fuse/creds.h"
#include "vmm/fuse/passthrough.h"

namespace vmrt::fuse {
namespace {

// The open flags the guest may pass on. O_DIRECT is dropped: the guest's
// buffers are not aligned for the host's direct I/O, and the guest kernel
// has done the bypassing of its own cache already. Creation flags come only
// through CREATE. (No O_NOFOLLOW: reopening goes through the /proc magic
// link, which it would refuse; the inode's type is checked instead.)
int open_flags(uint32_t guest) {
  int allowed = O_ACCMODE | O_APPEND | O_TRUNC | O_NONBLOCK | O_DSYNC | O_SYNC | O_NOATIME;
  return static_cast<int>(guest) & allowed;
}

uint32_t fopen_flags(CacheMode mode) {
  switch (mode) {
    case CacheMode::kNone:
      return FOPEN_DIRECT_IO;
    case CacheMode::kAuto:
      return 0;
    case CacheMode::kAlways:
      return FOPEN_KEEP_CACHE;
  }
  return 0;
}

// preadv/pwritev over any number of segments: IOV_MAX at a time, short
// transfers continued until the end of the file (reads) or an error.
template <typename Io>
ssize_t transfer(std::vector<iovec> iov, off_t offset, Io&& io) {
  size_t done = 0;
  size_t first = 0;
  while (first < iov.size()) {
    int count = static_cast<int>(std::min<size_t>(iov.size() - first, IOV_MAX));
    ssize_t n = io(iov.data() + first, count, offset + static_cast<off_t>(done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return done > 0 ? static_cast<ssize_t>(done) : -1;
    }
    if (n == 0) break;
    done += static_cast<size_t>(n);
    // Move past what was transferred, partly consumed segments included.
    for (size_t left = static_cast<size_t>(n); left > 0;) {
      if (iov[first].iov_len <= left) {
        left -= iov[first].iov_len;
        ++first;
      } else {
        iov[first].iov_base = static_cast<char*>(iov[first].iov_base) + left;
        iov[first].iov_len -= left;
        left = 0;
      }
    }
    while (first < iov.size() && iov[first].iov_len == 0) ++first;
  }
  return static_cast<ssize_t>(done);
}

}  // namespace

size_t Passthrough::open(Request& req, Reply& reply) {
  auto inode = node(req);
  if (!inode) return reply.error(ENOENT);
  fuse_open_in in;
  if (!req.read(in)) return reply.error(EINVAL);
  // Only regular files are opened on the host: the guest kernel serves
  // device nodes and FIFOs itself, and a host device node opened for the
  // guest would be an escape.
  if (inode->type == S_IFDIR) return reply.error(EISDIR);
  if (inode->type == S_IFLNK) return reply.error(ELOOP);
  if (inode->type != S_IFREG) return reply.error(ENXIO);
  if (handles_exhausted()) return reply.error(EMFILE);
  int fd = reopen(*inode, open_flags(in.flags));
  if (fd < 0) return reply.error(-fd);
  fuse_open_out out{};
  out.fh = files_.add(std::make_shared<OpenFile>(OpenFile{UniqueFd(fd), inode}));
  out.open_flags = fopen_flags(config_.cache);
  size_t n = reply.ok(out);
  if (n != sizeof(fuse_out_header) + sizeof out) files_.remove(out.fh);
  return n;
}

size_t Passthrough::create(Request& req, Reply& reply) {
  auto parent = node(req);
  if (!parent) return reply.error(ENOENT);
  fuse_create_in in;
  std::string name;
  if (!req.read(in)) return reply.error(EINVAL);
  if (int err = req.read_name(name)) return reply.error(err);
  if (name == "." || name == "..") return reply.error(EISDIR);
  if (parent->type != S_IFDIR) return reply.error(ENOTDIR);
  // Before the file is made: open(2) past the limit creates nothing either.
  if (handles_exhausted()) return reply.error(EMFILE);
  // Create exclusively: an existing name is opened like OPEN does, only
  // once it is known to be a regular file (never a host FIFO that would
  // block or a device node).
  int flags = open_flags(in.flags);
  int fd;
  {
    CallerCreds creds(switch_creds(), req.header.uid, req.header.gid);
    fd = openat(parent->fd.get(), name.c_str(),
                flags | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY,
                static_cast<mode_t>(in.mode & 07777));
  }
  bool existed = fd < 0 && errno == EEXIST && !(in.flags & O_EXCL);
  if (fd < 0 && !existed) return reply.error(last_errno());
  UniqueFd file(fd);
  struct {
    fuse_entry_out entry;
    fuse_open_out open;
  } out{};
  if (int err = lookup_child(parent, name, out.entry)) return reply.error(err);
  auto inode = inodes_.get(out.entry.nodeid);
  auto fail = [&](int err) {
    inodes_.forget(out.entry.nodeid, 1);
    return reply.error(err);
  };
  if (!inode) return reply.error(ENOENT);
  if (existed) {
    if (inode->type == S_IFDIR) return fail(EISDIR);
    if (inode->type != S_IFREG) return fail(inode->type == S_IFLNK ? ELOOP : ENXIO);
    fd = reopen(*inode, flags);
    if (fd < 0) return fail(-fd);
    file.reset(fd);
  }
  struct stat st;
  // The name may have been replaced between the two opens; the handle must
  // be for the inode the entry names.
  if (fstat(file.get(), &st) != 0 || st.st_dev != inode->dev || st.st_ino != inode->ino)
    return fail(EAGAIN);
  out.open.fh = files_.add(std::make_shared<OpenFile>(OpenFile{std::move(file), inode}));
  out.open.open_flags = fopen_flags(config_.cache);
  size_t n = reply.ok(out);
  if (n != sizeof(fuse_out_header) + sizeof out) {
    files_.remove(out.open.fh);
    inodes_.forget(out.entry.nodeid, 1);
  }
  return n;
}

size_t Passthrough::read(Request& req, Reply& reply) {
  fuse_read_in in;
  if (!req.read(in)) return reply.error(EINVAL);
  auto file = files_.get(in.fh);
  if (!file) return reply.error(EBADF);
  if (in.offset > static_cast<uint64_t>(INT64_MAX)) return reply.error(EINVAL);
  size_t size = std::min<size_t>({in.size, reply.capacity(), config_.max_write});
  auto segments = reply.body_segments(size);
  ssize_t n =
      transfer(std::move(segments), static_cast<off_t>(in.offset),
               [&](const iovec* v, int c, off_t off) { return preadv(file->fd.get(), v, c, off); });
  if (n < 0) return reply.error(last_errno());
  return reply.finish(static_cast<size_t>(n));
}

size_t Passthrough::write(Request& req, Reply& reply) {
  fuse_write_in in;
  if (!req.read(in)) return reply.error(EINVAL);
  auto file = files_.get(in.fh);
  if (!file) return reply.error(EBADF);
  // The data is what follows the arguments: the size must not claim more.
  if (in.size > req.args.remaining()) return reply.error(EINVAL);
  if (in.offset > static_cast<uint64_t>(INT64_MAX)) return reply.error(EFBIG);
  ssize_t n = transfer(
      req.args.take(in.size), static_cast<off_t>(in.offset),
      [&](const iovec* v, int c, off_t off) { return pwritev(file->fd.get(), v, c, off); });
  if (n < 0) return reply.error(last_errno());
  fuse_write_out out{};
  out.size = static_cast<uint32_t>(n);
  return reply.ok(out);
}

size_t Passthrough::flush(Request& req, Reply& reply) {
  fuse_flush_in in;
  if (!req.read(in)) return reply.error(EINVAL);
  auto file = files_.get(in.fh);
  if (!file) return reply.error(EBADF);
  // A close() in the guest: its POSIX locks on the file go, and the host
  // file system sees a close too (NFS, for one, writes back on close).
  drop_locks(*file->inode, in.lock_owner);
  int dup = fcntl(file->fd.get(), F_DUPFD_CLOEXEC, 0);
  if (dup < 0 || close(dup) != 0) return reply.error(last_errno());
  return reply.ok();
}

size_t Passthrough::release(Request& req, Reply& reply) {
  fuse_release_in in;
  if (!req.read(in)) return reply.error(EINVAL);
  auto file = files_.remove(in.fh);
  if (!file) return reply.error(EBADF);
  if (in.release_flags & FUSE_RELEASE_FLUSH) drop_locks(*file->inode, in.lock_owner);
  return reply.ok();
}

size_t Passthrough::fsync(Request& req, Reply& reply) {
  fuse_fsync_in in;
  if (!req.read(in)) return reply.error(EINVAL);
  auto file = files_.get(in.fh);
  if (!file) return reply.error(EBADF);
  int rc =
      (in.fsync_flags & FUSE_FSYNC_FDATASYNC) ? fdatasync(file->fd.get()) : ::fsync(file->fd.get());
  return rc == 0 ? reply.ok() : reply.error(last_errno());
}

size_t Passthrough::fallocate(Request& req, Reply& reply) {
  fuse_fallocate_in in;
  if (!req.read(in)) return reply.error(EINVAL);
  auto file = files_.get(in.fh);
  if (!file) return reply.error(EBADF);
  if (in.offset > static_cast<uint64_t>(INT64_MAX) || in.length > static_cast<uint64_t>(INT64_MAX))
    return reply.error(EINVAL);
  if (::fallocate(file->fd.get(), static_cast<int>(in.mode), static_cast<off_t>(in.offset),
                  static_cast<off_t>(in.length)) != 0)
    return reply.error(last_errno());
  return reply.ok();
}

size_t Passthrough::lseek(Request& req, Reply& reply) {
  fuse_lseek_in in;
  if (!req.read(in)) return reply.error(EINVAL);
  auto file = files_.get(in.fh);
  if (!file) return reply.error(EBADF);
  if (in.offset > static_cast<uint64_t>(INT64_MAX)) return reply.error(EINVAL);
  fuse_lseek_out out{};
  switch (in.whence) {
    case SEEK_SET:
      out.offset = in.offset;
      break;
    case SEEK_DATA:
    case SEEK_HOLE: {
      // Only the data/hole search uses the host's position; it is not the
      // guest's (the guest kernel keeps its own file position).
      off_t r = ::lseek(file->fd.get(), static_cast<off_t>(in.offset), static_cast<int>(in.whence));
      if (r < 0) return reply.error(last_errno());
      out.offset = static_cast<uint64_t>(r);
      break;
    }
    default:
      return reply.error(EINVAL);
  }
  return reply.ok(out);
}

}  // namespace vmrt::fuse
