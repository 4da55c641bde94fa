#pragma once
// The server's state and its operations, one member function per FUSE
// opcode, grouped in files by kind: ops_entry.cpp (names), ops_attr.cpp
// (attributes, statfs, access), ops_file.cpp (open files and their I/O),
// ops_dir.cpp (directory reading), ops_xattr.cpp, ops_lock.cpp. Each
// operation parses its own arguments from the request and returns the
// length of the reply it wrote. Internal to vmrt_fuse: the transports use
// server.h.

#include <sys/stat.h>

#include <atomic>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/fd.h"
#include "common/log_rate_limit.h"
#include "vmm/fuse/handle_table.h"
#include "vmm/fuse/inode_table.h"
#include "vmm/fuse/lock_waiters.h"
#include "vmm/fuse/reply.h"
#include "vmm/fuse/request.h"
#include "vmm/fuse/server.h"

namespace vmrt::fuse {

struct OpenFile {
  UniqueFd fd;
  std::shared_ptr<Inode> inode;
};

// An open directory and where the guest's reading has got to. getdents64
// fills `buf`; entries the last reply had no room for stay there for the
// next READDIR, which normally continues at `offset`.
struct OpenDir {
  UniqueFd fd;
  std::shared_ptr<Inode> inode;
  std::mutex mu;
  std::vector<char> buf;
  size_t buf_pos = 0, buf_len = 0;
  uint64_t offset = 0;  // the d_off of the next entry to hand out
};

class Passthrough {
 public:
  explicit Passthrough(ServerConfig config);

  size_t dispatch(Request& req, Reply& reply);
  void stop() { lock_waits_.stop(); }

  const ServerConfig& config() const { return config_; }
  // For what the guest's requests can make the server log, again and again.
  LogRateLimit& log_limit() { return log_limit_; }
  size_t inode_count() const { return inodes_.size(); }
  size_t handle_count() const { return files_.size() + dirs_.size(); }
  size_t lock_fd_count() const { return lock_fds_; }
  size_t parked_lock_waits() const { return lock_waits_.size(); }
  // Checked before an open, so concurrent opens on other request threads
  // may pass it together: the limit holds to within the thread count.
  bool handles_exhausted() const {
    return handle_count() + lock_fd_count() >= config_.max_open_handles;
  }

 private:
  using Op = size_t (Passthrough::*)(Request&, Reply&);
  static Op op_for(uint32_t opcode);

  // ops_init.cpp
  size_t init(Request&, Reply&);
  size_t destroy(Request&, Reply&);
  // ops_entry.cpp
  size_t lookup(Request&, Reply&);
  size_t forget(Request&, Reply&);
  size_t batch_forget(Request&, Reply&);
  size_t readlink(Request&, Reply&);
  size_t symlink(Request&, Reply&);
  size_t mknod(Request&, Reply&);
  size_t mkdir(Request&, Reply&);
  size_t unlink(Request&, Reply&);
  size_t rmdir(Request&, Reply&);
  size_t rename(Request&, Reply&);
  size_t rename2(Request&, Reply&);
  size_t link(Request&, Reply&);
  // ops_attr.cpp
  size_t getattr(Request&, Reply&);
  size_t setattr(Request&, Reply&);
  size_t statfs(Request&, Reply&);
  size_t access(Request&, Reply&);
  // ops_file.cpp
  size_t open(Request&, Reply&);
  size_t create(Request&, Reply&);
  size_t read(Request&, Reply&);
  size_t write(Request&, Reply&);
  size_t flush(Request&, Reply&);
  size_t release(Request&, Reply&);
  size_t fsync(Request&, Reply&);
  size_t fallocate(Request&, Reply&);
  size_t lseek(Request&, Reply&);
  // ops_dir.cpp
  size_t opendir(Request&, Reply&);
  size_t readdir(Request&, Reply&);
  size_t readdirplus(Request&, Reply&);
  size_t releasedir(Request&, Reply&);
  size_t fsyncdir(Request&, Reply&);
  size_t read_directory(Request&, Reply&, bool plus);
  // ops_xattr.cpp
  size_t getxattr(Request&, Reply&);
  size_t setxattr(Request&, Reply&);
  size_t listxattr(Request&, Reply&);
  size_t removexattr(Request&, Reply&);
  // ops_lock.cpp
  size_t getlk(Request&, Reply&);
  size_t setlk(Request&, Reply&);
  size_t setlkw(Request&, Reply&);
  size_t set_lock(Request&, Reply&, bool wait);
  size_t interrupt(Request&, Reply&);
  // Drops `owner`'s locks on `inode` and ends its parked waits there.
  void drop_locks(Inode& inode, uint64_t owner);
  // Parses a lock request: the lock as a struct flock, its owner and the
  // owner's descriptor (null for an unlock by an owner without one).
  // Returns 0 or an errno.
  int lock_request(Request& req, struct flock& fl, uint64_t& owner, std::shared_ptr<UniqueFd>& fd);
  // The descriptor carrying `owner`'s locks on `inode`, opened on first use
  // when `create`; null with `err` set when it cannot be opened (ENOLCK when
  // the open-handle bound is reached), null alone when the owner has none
  // and `create` is false.
  std::shared_ptr<UniqueFd> lock_fd(Inode& inode, uint64_t owner, bool create, int& err);

  // Helpers (passthrough.cpp).
  // The request's node, or null (the caller answers ENOENT... see node()).
  std::shared_ptr<Inode> node(const Request& req) const { return inodes_.get(req.header.nodeid); }
  // Looks `name` up in `parent` and fills `out`, counting one lookup.
  // Returns 0 or an errno.
  int lookup_child(const std::shared_ptr<Inode>& parent, const std::string& name,
                   fuse_entry_out& out);
  void fill_entry(const Inode& inode, const struct stat& st, fuse_entry_out& out) const;
  void fill_attr_out(const struct stat& st, fuse_attr_out& out) const;
  // The inode number the guest sees. The guest sees one file system, but a
  // share may hold mounts (container rootfs bind mounts), whose inode
  // numbers repeat those of other file systems: files on the share's own
  // file system keep their host numbers, those of each other file system
  // get its index (1, 2 ...) in the top 16 bits.
  uint64_t guest_ino(dev_t dev, ino_t ino) const;
  // An ordinary descriptor for `inode`, opened afresh through /proc/self/fd
  // with `flags` (the O_PATH descriptor cannot do I/O). Returns -errno.
  int reopen(const Inode& inode, int flags) const;
  // "/proc/self/fd/N" for calls that only take a path (xattrs).
  static std::string proc_path(const Inode& inode);
  // Replies with the entry for `name` in `parent` after it was created.
  size_t reply_entry(const std::shared_ptr<Inode>& parent, const std::string& name, Reply& reply);
  bool switch_creds() const { return switch_creds_; }
  // Drops every inode but the root and every handle (DESTROY, a new INIT).
  void reset();

  ServerConfig config_;
  // Lock descriptors open (counted down by their deleter, so it outlives
  // the inodes and parked waits that hold them).
  std::atomic<size_t> lock_fds_{0};
  UniqueFd proc_fd_;  // /proc/self/fd, opened once: reopen() works in a jail too
  InodeTable inodes_;
  HandleTable<OpenFile> files_;
  HandleTable<OpenDir> dirs_;
  bool switch_creds_;
  std::atomic<bool> initialized_{false};
  LockWaiters lock_waits_;
  LogRateLimit log_limit_;
  mutable std::mutex dev_mu_;
  mutable std::unordered_map<dev_t, uint64_t> dev_index_;  // other file systems' indexes
};

// Host errno of the last failed call, never 0 (a reply of error 0 would be
// read as success).
inline int last_errno() { return errno ? errno : EIO; }

}  // namespace vmrt::fuse
