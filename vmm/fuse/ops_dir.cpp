// Directories: OPENDIR, READDIR, READDIRPLUS, RELEASEDIR, FSYNCDIR.
#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "vmm/fuse/passthrough.h"

namespace vmrt::fuse {

size_t Passthrough::opendir(Request& req, Reply& reply) {
  auto inode = node(req);
  if (!inode) return reply.error(ENOENT);
  fuse_open_in in;
  if (!req.read(in)) return reply.error(EINVAL);
  if (inode->type != S_IFDIR) return reply.error(ENOTDIR);
  if (handles_exhausted()) return reply.error(EMFILE);
  int fd = reopen(*inode, O_RDONLY | O_DIRECTORY);
  if (fd < 0) return reply.error(-fd);
  auto dir = std::make_shared<OpenDir>();
  dir->fd.reset(fd);
  dir->inode = inode;
  dir->buf.resize(32 * 1024);
  fuse_open_out out{};
  out.fh = dirs_.add(std::move(dir));
  if (config_.cache == CacheMode::kAlways) out.open_flags = FOPEN_KEEP_CACHE | FOPEN_CACHE_DIR;
  size_t n = reply.ok(out);
  if (n != sizeof(fuse_out_header) + sizeof out) dirs_.remove(out.fh);
  return n;
}

size_t Passthrough::readdir(Request& req, Reply& reply) {
  return read_directory(req, reply, false);
}
size_t Passthrough::readdirplus(Request& req, Reply& reply) {
  return read_directory(req, reply, true);
}

size_t Passthrough::read_directory(Request& req, Reply& reply, bool plus) {
  fuse_read_in in;
  if (!req.read(in)) return reply.error(EINVAL);
  auto dir = dirs_.get(in.fh);
  if (!dir) return reply.error(EBADF);
  if (in.offset > static_cast<uint64_t>(INT64_MAX)) return reply.error(EINVAL);
  size_t size = std::min<size_t>({in.size, reply.capacity(), config_.max_write});
  std::vector<char> out(size);
  size_t used = 0;

  std::lock_guard lock(dir->mu);
  if (in.offset != dir->offset) {
    // Not where the last reply ended: seek (offsets are the host's d_off).
    if (::lseek(dir->fd.get(), static_cast<off_t>(in.offset), SEEK_SET) < 0)
      return reply.error(last_errno());
    dir->buf_pos = dir->buf_len = 0;
    dir->offset = in.offset;
  }
  for (;;) {
    if (dir->buf_pos >= dir->buf_len) {
      ssize_t n = getdents64(dir->fd.get(), dir->buf.data(), dir->buf.size());
      if (n < 0) {
        if (used == 0) return reply.error(last_errno());
        break;
      }
      if (n == 0) break;
      dir->buf_pos = 0;
      dir->buf_len = static_cast<size_t>(n);
    }
    auto* d = reinterpret_cast<dirent64*>(dir->buf.data() + dir->buf_pos);
    size_t namelen = strlen(d->d_name);
    size_t head = plus ? sizeof(fuse_direntplus) : sizeof(fuse_dirent);
    size_t rec = FUSE_DIRENT_ALIGN(head + namelen);
    if (used + rec > size) break;  // stays buffered for the next READDIR

    fuse_direntplus ent{};
    bool dots = strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0;
    if (plus && !dots) {
      // Each entry returned with a node id counts a lookup, so the lookup
      // happens only once the entry is sure to fit.
      if (int err = lookup_child(dir->inode, d->d_name, ent.entry_out)) {
        if (err == ENOENT) {  // removed since getdents: leave it out
          dir->buf_pos += d->d_reclen;
          dir->offset = static_cast<uint64_t>(d->d_off);
          continue;
        }
        if (used == 0) return reply.error(err);
        break;
      }
    }
    ent.dirent.ino = guest_ino(dir->inode->dev, d->d_ino);
    ent.dirent.off = static_cast<uint64_t>(d->d_off);
    ent.dirent.namelen = static_cast<uint32_t>(namelen);
    ent.dirent.type = d->d_type;
    char* p = out.data() + used;
    if (plus) {
      std::memcpy(p, &ent, sizeof ent);
    } else {
      std::memcpy(p, &ent.dirent, sizeof ent.dirent);
    }
    std::memcpy(p + head, d->d_name, namelen);
    used += rec;
    dir->buf_pos += d->d_reclen;
    dir->offset = static_cast<uint64_t>(d->d_off);
  }
  return reply.ok(out.data(), used);
}

size_t Passthrough::releasedir(Request& req, Reply& reply) {
  fuse_release_in in;
  if (!req.read(in)) return reply.error(EINVAL);
  return dirs_.remove(in.fh) ? reply.ok() : reply.error(EBADF);
}

size_t Passthrough::fsyncdir(Request& req, Reply& reply) {
  fuse_fsync_in in;
  if (!req.read(in)) return reply.error(EINVAL);
  auto dir = dirs_.get(in.fh);
  if (!dir) return reply.error(EBADF);
  int rc =
      (in.fsync_flags & FUSE_FSYNC_FDATASYNC) ? fdatasync(dir->fd.get()) : ::fsync(dir->fd.get());
  return rc == 0 ? reply.ok() : reply.error(last_errno());
}

}  // namespace vmrt::fuse
