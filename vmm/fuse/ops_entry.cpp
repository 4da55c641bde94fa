// Names: LOOKUP, FORGET, creating, removing, renaming and linking entries,
// READLINK. Every name is one component, resolved relative to its parent's
// O_PATH descriptor.
#include <fcntl.h>
#include <linux/limits.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmm/fuse/creds.h"
#include "vmm/fuse/passthrough.h"

namespace vmrt::fuse {
namespace {

// Names that modify a directory: "." and ".." name the directory itself or
// its parent, never an entry to create, remove or rename.
int read_entry_name(Request& req, std::string& name) {
  if (int err = req.read_name(name)) return err;
  return name == "." || name == ".." ? EINVAL : 0;
}

}  // namespace

size_t Passthrough::lookup(Request& req, Reply& reply) {
  auto parent = node(req);
  if (!parent) return reply.error(ENOENT);
  std::string name;
  if (int err = req.read_name(name)) return reply.error(err);
  return reply_entry(parent, name, reply);
}

size_t Passthrough::forget(Request& req, Reply&) {
  fuse_forget_in in;
  if (req.read(in)) inodes_.forget(req.header.nodeid, in.nlookup);
  return 0;
}

size_t Passthrough::batch_forget(Request& req, Reply&) {
  fuse_batch_forget_in in;
  if (!req.read(in)) return 0;
  // The count is the guest's word; the entries actually present bound it.
  for (uint32_t i = 0; i < in.count; ++i) {
    fuse_forget_one one;
    if (!req.read(one)) break;
    inodes_.forget(one.nodeid, one.nlookup);
  }
  return 0;
}

size_t Passthrough::readlink(Request& req, Reply& reply) {
  auto inode = node(req);
  if (!inode) return reply.error(ENOENT);
  if (inode->type != S_IFLNK) return reply.error(EINVAL);
  char buf[PATH_MAX];
  ssize_t n = readlinkat(inode->fd.get(), "", buf, sizeof buf);
  if (n < 0) return reply.error(last_errno());
  return reply.ok(buf, static_cast<size_t>(n));
}

size_t Passthrough::symlink(Request& req, Reply& reply) {
  auto parent = node(req);
  if (!parent) return reply.error(ENOENT);
  std::string name, target;
  if (int err = read_entry_name(req, name)) return reply.error(err);
  if (int err = req.read_string(target, PATH_MAX - 1)) return reply.error(err);
  {
    CallerCreds creds(switch_creds(), req.header.uid, req.header.gid);
    // The target is stored, never resolved by the server.
    if (symlinkat(target.c_str(), parent->fd.get(), name.c_str()) != 0)
      return reply.error(last_errno());
  }
  return reply_entry(parent, name, reply);
}

size_t Passthrough::mknod(Request& req, Reply& reply) {
  auto parent = node(req);
  if (!parent) return reply.error(ENOENT);
  fuse_mknod_in in;
  std::string name;
  if (!req.read(in)) return reply.error(EINVAL);
  if (int err = read_entry_name(req, name)) return reply.error(err);
  mode_t type = in.mode & S_IFMT;
  // No device nodes: one made by the guest's root would be a host device
  // node in a host directory (the share's mounts are nodev, its source path
  // may not be). The guest's own /dev is a tmpfs in the guest; the server
  // lacks CAP_MKNOD besides.
  if (type == S_IFCHR || type == S_IFBLK) return reply.error(EPERM);
  if (type != S_IFREG && type != S_IFIFO && type != S_IFSOCK) return reply.error(EINVAL);
  {
    CallerCreds creds(switch_creds(), req.header.uid, req.header.gid);
    if (mknodat(parent->fd.get(), name.c_str(), in.mode & (S_IFMT | 07777), 0) != 0)
      return reply.error(last_errno());
  }
  return reply_entry(parent, name, reply);
}

size_t Passthrough::mkdir(Request& req, Reply& reply) {
  auto parent = node(req);
  if (!parent) return reply.error(ENOENT);
  fuse_mkdir_in in;
  std::string name;
  if (!req.read(in)) return reply.error(EINVAL);
  if (int err = read_entry_name(req, name)) return reply.error(err);
  {
    CallerCreds creds(switch_creds(), req.header.uid, req.header.gid);
    if (mkdirat(parent->fd.get(), name.c_str(), in.mode & 07777) != 0)
      return reply.error(last_errno());
  }
  return reply_entry(parent, name, reply);
}

size_t Passthrough::unlink(Request& req, Reply& reply) {
  auto parent = node(req);
  if (!parent) return reply.error(ENOENT);
  std::string name;
  if (int err = read_entry_name(req, name)) return reply.error(err);
  if (unlinkat(parent->fd.get(), name.c_str(), 0) != 0) return reply.error(last_errno());
  return reply.ok();
}

size_t Passthrough::rmdir(Request& req, Reply& reply) {
  auto parent = node(req);
  if (!parent) return reply.error(ENOENT);
  std::string name;
  if (int err = read_entry_name(req, name)) return reply.error(err);
  if (unlinkat(parent->fd.get(), name.c_str(), AT_REMOVEDIR) != 0) return reply.error(last_errno());
  return reply.ok();
}

namespace {

size_t do_rename(InodeTable& inodes, const std::shared_ptr<Inode>& parent, uint64_t newdir,
                 unsigned flags, Request& req, Reply& reply) {
  std::string oldname, newname;
  if (int err = read_entry_name(req, oldname)) return reply.error(err);
  if (int err = read_entry_name(req, newname)) return reply.error(err);
  auto target = inodes.get(newdir);
  if (!target) return reply.error(ENOENT);
  if (renameat2(parent->fd.get(), oldname.c_str(), target->fd.get(), newname.c_str(), flags) != 0)
    return reply.error(last_errno());
  return reply.ok();
}

}  // namespace

size_t Passthrough::rename(Request& req, Reply& reply) {
  auto parent = node(req);
  if (!parent) return reply.error(ENOENT);
  fuse_rename_in in;
  if (!req.read(in)) return reply.error(EINVAL);
  return do_rename(inodes_, parent, in.newdir, 0, req, reply);
}

size_t Passthrough::rename2(Request& req, Reply& reply) {
  auto parent = node(req);
  if (!parent) return reply.error(ENOENT);
  fuse_rename2_in in;
  if (!req.read(in)) return reply.error(EINVAL);
  // RENAME_WHITEOUT creates a device node: not for the guest to ask.
  if (in.flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE)) return reply.error(EINVAL);
  return do_rename(inodes_, parent, in.newdir, in.flags, req, reply);
}

size_t Passthrough::link(Request& req, Reply& reply) {
  auto parent = node(req);
  if (!parent) return reply.error(ENOENT);
  fuse_link_in in;
  std::string name;
  if (!req.read(in)) return reply.error(EINVAL);
  if (int err = read_entry_name(req, name)) return reply.error(err);
  auto inode = inodes_.get(in.oldnodeid);
  if (!inode) return reply.error(ENOENT);
  if (inode->type == S_IFDIR) return reply.error(EPERM);
  // The source is the held inode itself, never a name resolved again.
  if (linkat(inode->fd.get(), "", parent->fd.get(), name.c_str(), AT_EMPTY_PATH) != 0) {
    // AT_EMPTY_PATH needs CAP_DAC_READ_SEARCH; /proc/self/fd/N names the
    // same inode.
    if (errno != ENOENT || linkat(AT_FDCWD, proc_path(*inode).c_str(), parent->fd.get(),
                                  name.c_str(), AT_SYMLINK_FOLLOW) != 0)
      return reply.error(last_errno());
  }
  return reply_entry(parent, name, reply);
}

}  // namespace vmrt::fuse
