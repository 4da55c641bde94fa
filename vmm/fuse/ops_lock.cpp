// POSIX record locks: GETLK, SETLK, SETLKW. Each guest lock owner gets its
// own open file description of the inode and the host's OFD locks on it:
// locks of one owner merge and never conflict with each other, locks of
// different owners (and of host processes) do, as POSIX locks between
// processes. Closing the description drops the owner's locks (FLUSH).
#include <fcntl.h>
#include <unistd.h>

#include "vmm/fuse/passthrough.h"

namespace vmrt::fuse {
namespace {

constexpr uint64_t kOffsetMax = INT64_MAX;  // the kernel's OFFSET_MAX: "to the end"

// fuse_file_lock (inclusive end) as a struct flock (length, 0 = to the end).
int to_flock(const fuse_file_lock& lk, struct flock& fl) {
  if (lk.type != F_RDLCK && lk.type != F_WRLCK && lk.type != F_UNLCK) return EINVAL;
  if (lk.start > kOffsetMax || lk.end < lk.start) return EINVAL;
  fl = {};
  fl.l_type = static_cast<short>(lk.type);
  fl.l_whence = SEEK_SET;
  fl.l_start = static_cast<off_t>(lk.start);
  fl.l_len = lk.end >= kOffsetMax ? 0 : static_cast<off_t>(lk.end - lk.start + 1);
  return 0;
}

}  // namespace

// Read-write when possible so that both lock types can be taken; read-only
// or write-only where the file allows no more (a read-only mount).
std::shared_ptr<UniqueFd> Passthrough::lock_fd(Inode& inode, uint64_t owner, bool create,
                                               int& err) {
  std::lock_guard lock(inode.lock_mu);
  auto it = inode.lock_fds.find(owner);
  if (it != inode.lock_fds.end()) return it->second;
  if (!create) return nullptr;
  // Each owner's descriptor is a host descriptor the guest makes the server
  // hold, as an open file is.
  if (handles_exhausted()) {
    err = ENOLCK;
    return nullptr;
  }
  int fd = reopen(inode, O_RDWR);
  if (fd < 0) fd = reopen(inode, O_RDONLY);
  if (fd < 0) fd = reopen(inode, O_WRONLY);
  if (fd < 0) {
    err = -fd;
    return nullptr;
  }
  ++lock_fds_;
  std::shared_ptr<UniqueFd> owned(new UniqueFd(fd), [count = &lock_fds_](UniqueFd* p) {
    delete p;
    --*count;
  });
  inode.lock_fds.emplace(owner, owned);
  return owned;
}

void Passthrough::drop_locks(Inode& inode, uint64_t owner) {
  // A wait on a descriptor that is no longer the owner's would take a lock
  // nobody holds for the guest: it ends (EINTR) before the descriptor goes.
  lock_waits_.cancel(inode.nodeid, owner);
  {
    std::shared_ptr<UniqueFd> dropped;
    std::lock_guard lock(inode.lock_mu);
    auto it = inode.lock_fds.find(owner);
    if (it == inode.lock_fds.end()) return;
    dropped = std::move(it->second);
    inode.lock_fds.erase(it);
  }
  lock_waits_.retry();
}

int Passthrough::lock_request(Request& req, struct flock& fl, uint64_t& owner,
                              std::shared_ptr<UniqueFd>& fd) {
  auto inode = node(req);
  if (!inode) return ENOENT;
  fuse_lk_in in;
  if (!req.read(in)) return EINVAL;
  // flock() locks stay in the guest kernel (FUSE_FLOCK_LOCKS is not offered).
  if (in.lk_flags & FUSE_LK_FLOCK) return EINVAL;
  if (inode->type != S_IFREG) return EINVAL;
  if (int err = to_flock(in.lk, fl)) return err;
  int err = 0;
  owner = in.owner;
  // An unlock by an owner that holds nothing needs no descriptor.
  fd = lock_fd(*inode, in.owner, fl.l_type != F_UNLCK, err);
  return err;
}

size_t Passthrough::getlk(Request& req, Reply& reply) {
  struct flock fl;
  uint64_t owner;
  std::shared_ptr<UniqueFd> owned;
  if (int err = lock_request(req, fl, owner, owned)) return reply.error(err);
  if (!owned) return reply.error(EINVAL);  // GETLK of F_UNLCK asks nothing
  int fd = owned->get();
  if (fcntl(fd, F_OFD_GETLK, &fl) != 0) return reply.error(last_errno());
  fuse_lk_out out{};
  out.lk.type = static_cast<uint32_t>(fl.l_type);
  if (fl.l_type != F_UNLCK) {
    out.lk.start = static_cast<uint64_t>(fl.l_start);
    out.lk.end = fl.l_len == 0 ? kOffsetMax : static_cast<uint64_t>(fl.l_start + fl.l_len - 1);
    // The holder's host pid means nothing in the guest.
    out.lk.pid = 0;
  }
  return reply.ok(out);
}

size_t Passthrough::setlk(Request& req, Reply& reply) { return set_lock(req, reply, false); }
size_t Passthrough::setlkw(Request& req, Reply& reply) { return set_lock(req, reply, true); }

size_t Passthrough::set_lock(Request& req, Reply& reply, bool wait) {
  struct flock fl;
  uint64_t owner;
  std::shared_ptr<UniqueFd> owned;
  if (int err = lock_request(req, fl, owner, owned)) return reply.error(err);
  if (!owned) return reply.ok();
  if (fcntl(owned->get(), F_OFD_SETLK, &fl) == 0) {
    // An unlock or a downgrade may let a parked wait through.
    lock_waits_.retry();
    return reply.ok();
  }
  if (!wait || (errno != EAGAIN && errno != EACCES)) return reply.error(last_errno());
  // SETLKW on a held lock: parked, so that this request thread goes on to
  // serve the unlock it waits for, and every other request meanwhile.
  if (!req.later) return reply.error(EDEADLK);
  int err = lock_waits_.park(
      {req.header.unique, req.header.nodeid, owner, std::move(owned), fl, *req.later});
  return err ? reply.error(err) : Server::kDeferred;
}

size_t Passthrough::interrupt(Request& req, Reply&) {
  fuse_interrupt_in in;
  if (!req.read(in)) return 0;
  // Only lock waits last: anything else is answered soon anyway. An
  // INTERRUPT takes no reply of its own; the interrupted request's is EINTR.
  lock_waits_.interrupt(in.unique);
  return 0;
}

}  // namespace vmrt::fuse
