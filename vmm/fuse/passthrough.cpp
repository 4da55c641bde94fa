#include "vmm/fuse/passthrough.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <spdlog/spdlog.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "common/error.h"
#include "vmm/fuse/cache_mode.h"
#include "vmm/fuse/creds.h"

namespace vmrt::fuse {
namespace {

// The shared directory as the inode table's root.
InodeTable open_root(const std::filesystem::path& dir) {
  int fd = ::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) throw_errno("cannot open shared directory " + dir.string());
  UniqueFd root(fd);
  struct stat st;
  check_sys(fstat(fd, &st), "fstat " + dir.string());
  return InodeTable(std::move(root), st.st_dev, st.st_ino);
}

// One path component below `dirfd`, the component itself not followed if it
// is a symlink: openat2 refuses to leave the directory by any means; where
// the kernel lacks openat2 the name has been checked to hold no '/' and an
// O_NOFOLLOW openat is just as narrow.
int open_beneath(int dirfd, const std::string& name) {
  static std::atomic<bool> have_openat2{true};
  if (have_openat2) {
    open_how how{};
    how.flags = O_PATH | O_NOFOLLOW | O_CLOEXEC;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
    int fd = static_cast<int>(syscall(SYS_openat2, dirfd, name.c_str(), &how, sizeof how));
    if (fd >= 0 || errno != ENOSYS) return fd;
    have_openat2 = false;
  }
  return ::openat(dirfd, name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC);
}

// The kernel's FUSE client encodes device numbers as new_encode_dev does.
uint32_t encode_dev(dev_t dev) {
  uint32_t ma = major(dev), mi = minor(dev);
  return (mi & 0xff) | (ma << 8) | ((mi & ~0xffu) << 12);
}

}  // namespace

Passthrough::Passthrough(ServerConfig config)
    : config_(std::move(config)),
      inodes_(open_root(config_.shared_dir)),
      switch_creds_(can_switch_creds()),
      lock_waits_(config_.max_lock_waiters) {
  int fd = ::open("/proc/self/fd", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) throw_errno("cannot open /proc/self/fd");
  proc_fd_.reset(fd);
  // READ and WRITE sizes are whole pages for the kernel (max_pages).
  config_.max_write = std::clamp<uint32_t>(config_.max_write & ~4095u, 4096, 256 * 4096);
}

void Passthrough::fill_entry(const Inode& inode, const struct stat& st, fuse_entry_out& out) const {
  out = {};
  out.nodeid = inode.nodeid;
  out.generation = 0;
  out.entry_valid = out.attr_valid = cache_timeout_seconds(config_.cache);
  fuse_attr_out a{};
  fill_attr_out(st, a);
  out.attr = a.attr;
}

void Passthrough::fill_attr_out(const struct stat& st, fuse_attr_out& out) const {
  out = {};
  out.attr_valid = cache_timeout_seconds(config_.cache);
  fuse_attr& a = out.attr;
  a.ino = guest_ino(st.st_dev, st.st_ino);
  a.size = static_cast<uint64_t>(st.st_size);
  a.blocks = static_cast<uint64_t>(st.st_blocks);
  a.atime = static_cast<uint64_t>(st.st_atim.tv_sec);
  a.mtime = static_cast<uint64_t>(st.st_mtim.tv_sec);
  a.ctime = static_cast<uint64_t>(st.st_ctim.tv_sec);
  a.atimensec = static_cast<uint32_t>(st.st_atim.tv_nsec);
  a.mtimensec = static_cast<uint32_t>(st.st_mtim.tv_nsec);
  a.ctimensec = static_cast<uint32_t>(st.st_ctim.tv_nsec);
  a.mode = st.st_mode;
  a.nlink = static_cast<uint32_t>(st.st_nlink);
  a.uid = st.st_uid;
  a.gid = st.st_gid;
  a.rdev = encode_dev(st.st_rdev);
  a.blksize = static_cast<uint32_t>(st.st_blksize);
}

uint64_t Passthrough::guest_ino(dev_t dev, ino_t ino) const {
  if (dev == inodes_.root()->dev) return ino;
  std::lock_guard lock(dev_mu_);
  auto it = dev_index_.try_emplace(dev, dev_index_.size() + 1).first;
  return (it->second << 48) ^ ino;
}

int Passthrough::lookup_child(const std::shared_ptr<Inode>& parent, const std::string& name,
                              fuse_entry_out& out) {
  if (parent->type != S_IFDIR) return ENOTDIR;
  int fd;
  if (name == ".." && parent == inodes_.root()) {
    // The root's parent is outside the share: ".." stays at the root.
    fd = ::openat(parent->fd.get(), ".", O_PATH | O_CLOEXEC);
  } else if (name == "..") {
    fd = ::openat(parent->fd.get(), "..", O_PATH | O_NOFOLLOW | O_CLOEXEC);
  } else {
    fd = open_beneath(parent->fd.get(), name);
  }
  if (fd < 0) return last_errno();
  UniqueFd child(fd);
  struct stat st;
  if (fstatat(fd, "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) != 0) return last_errno();
  // A parent is only handed out when the guest already reached it from the
  // root: a directory the host moved out of the share does not lead further.
  if (name == ".." && !inodes_.find(st.st_dev, st.st_ino)) return EACCES;
  auto inode = inodes_.lookup(std::move(child), st);
  fill_entry(*inode, st, out);
  return 0;
}

size_t Passthrough::reply_entry(const std::shared_ptr<Inode>& parent, const std::string& name,
                                Reply& reply) {
  fuse_entry_out e;
  if (int err = lookup_child(parent, name, e)) return reply.error(err);
  size_t n = reply.ok(e);
  // A reply the buffers could not take is an error for the guest, so the
  // lookup it would have counted is paid back here.
  if (n != sizeof(fuse_out_header) + sizeof e) inodes_.forget(e.nodeid, 1);
  return n;
}

int Passthrough::reopen(const Inode& inode, int flags) const {
  std::string n = std::to_string(inode.fd.get());
  int fd = ::openat(proc_fd_.get(), n.c_str(), flags | O_CLOEXEC | O_NOCTTY);
  return fd >= 0 ? fd : -last_errno();
}

std::string Passthrough::proc_path(const Inode& inode) {
  return "/proc/self/fd/" + std::to_string(inode.fd.get());
}

void Passthrough::reset() {
  lock_waits_.cancel_all();
  files_.clear();
  dirs_.clear();
  inodes_.clear();
}

Passthrough::Op Passthrough::op_for(uint32_t opcode) {
  switch (opcode) {
    case FUSE_INIT:
      return &Passthrough::init;
    case FUSE_DESTROY:
      return &Passthrough::destroy;
    case FUSE_LOOKUP:
      return &Passthrough::lookup;
    case FUSE_FORGET:
      return &Passthrough::forget;
    case FUSE_BATCH_FORGET:
      return &Passthrough::batch_forget;
    case FUSE_GETATTR:
      return &Passthrough::getattr;
    case FUSE_SETATTR:
      return &Passthrough::setattr;
    case FUSE_READLINK:
      return &Passthrough::readlink;
    case FUSE_SYMLINK:
      return &Passthrough::symlink;
    case FUSE_MKNOD:
      return &Passthrough::mknod;
    case FUSE_MKDIR:
      return &Passthrough::mkdir;
    case FUSE_UNLINK:
      return &Passthrough::unlink;
    case FUSE_RMDIR:
      return &Passthrough::rmdir;
    case FUSE_RENAME:
      return &Passthrough::rename;
    case FUSE_RENAME2:
      return &Passthrough::rename2;
    case FUSE_LINK:
      return &Passthrough::link;
    case FUSE_OPEN:
      return &Passthrough::open;
    case FUSE_CREATE:
      return &Passthrough::create;
    case FUSE_READ:
      return &Passthrough::read;
    case FUSE_WRITE:
      return &Passthrough::write;
    case FUSE_FLUSH:
      return &Passthrough::flush;
    case FUSE_RELEASE:
      return &Passthrough::release;
    case FUSE_FSYNC:
      return &Passthrough::fsync;
    case FUSE_OPENDIR:
      return &Passthrough::opendir;
    case FUSE_READDIR:
      return &Passthrough::readdir;
    case FUSE_READDIRPLUS:
      return &Passthrough::readdirplus;
    case FUSE_RELEASEDIR:
      return &Passthrough::releasedir;
    case FUSE_FSYNCDIR:
      return &Passthrough::fsyncdir;
    case FUSE_STATFS:
      return &Passthrough::statfs;
    case FUSE_ACCESS:
      return &Passthrough::access;
    case FUSE_GETXATTR:
      return &Passthrough::getxattr;
    case FUSE_SETXATTR:
      return &Passthrough::setxattr;
    case FUSE_LISTXATTR:
      return &Passthrough::listxattr;
    case FUSE_REMOVEXATTR:
      return &Passthrough::removexattr;
    case FUSE_FALLOCATE:
      return &Passthrough::fallocate;
    case FUSE_LSEEK:
      return &Passthrough::lseek;
    case FUSE_GETLK:
      return &Passthrough::getlk;
    case FUSE_SETLK:
      return &Passthrough::setlk;
    case FUSE_SETLKW:
      return &Passthrough::setlkw;
    case FUSE_INTERRUPT:
      return &Passthrough::interrupt;
    default:
      return nullptr;
  }
}

size_t Passthrough::dispatch(Request& req, Reply& reply) {
  uint32_t opcode = req.header.opcode;
  Op op = op_for(opcode);
  if (!op) return reply.error(ENOSYS);
  if (opcode != FUSE_INIT && !initialized_) {
    // Nothing but INIT is served before INIT; FORGETs never get a reply.
    return opcode == FUSE_FORGET || opcode == FUSE_BATCH_FORGET ? 0 : reply.error(EIO);
  }
  errno = 0;
  return (this->*op)(req, reply);
}

}  // namespace vmrt::fuse
