#pragma once
// The server's inodes: one O_PATH descriptor per host file the guest has
// looked up, keyed by (st_dev, st_ino) so that every name of a file (hard
// links, repeated lookups) maps to one node id, with the lookup count the
// kernel's FORGET pays back. Holding the descriptor pins the host inode, so
// its number cannot be reused for another file while the guest knows it.

#include <sys/stat.h>
#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "common/fd.h"

namespace vmrt::fuse {

struct Inode {
  Inode(UniqueFd f, dev_t d, ino_t i, mode_t m, uint64_t id)
      : fd(std::move(f)), dev(d), ino(i), type(m & S_IFMT), nodeid(id) {}

  const UniqueFd fd;  // O_PATH | O_NOFOLLOW
  const dev_t dev;
  const ino_t ino;
  const mode_t type;  // S_IFREG, S_IFDIR ...: a host inode never changes type
  const uint64_t nodeid;

  // POSIX locks: one open file description per lock owner, so that the host
  // kernel's OFD locks give each guest owner its own POSIX-like lock set.
  std::mutex lock_mu;
  std::map<uint64_t, std::shared_ptr<UniqueFd>> lock_fds;
};

class InodeTable {
 public:
  // The root is node id FUSE_ROOT_ID and is never forgotten.
  InodeTable(UniqueFd root_fd, dev_t dev, ino_t ino);

  const std::shared_ptr<Inode>& root() const noexcept { return root_; }

  // The inode for a node id, or null for an id the table does not hold.
  std::shared_ptr<Inode> get(uint64_t nodeid) const;

  // Counts one lookup of the file `fd` refers to (stat `st`): the known
  // inode when (dev, ino) is already held (and `fd` is closed), else a new
  // one that takes `fd`.
  std::shared_ptr<Inode> lookup(UniqueFd fd, const struct stat& st);
  // The inode already held for (dev, ino) without counting a lookup, or null.
  std::shared_ptr<Inode> find(dev_t dev, ino_t ino) const;

  // Pays back `n` lookups; the inode is dropped at zero (its descriptor is
  // closed once no request in flight still uses it). Unknown ids and the
  // root are ignored, as is a count larger than owed (it drops the inode).
  void forget(uint64_t nodeid, uint64_t n);

  // Drops every inode but the root (the guest unmounted: DESTROY).
  void clear();
  size_t size() const;

 private:
  struct Key {
    dev_t dev;
    ino_t ino;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    size_t operator()(const Key& k) const noexcept { return k.ino * 31 + k.dev; }
  };
  struct Entry {
    std::shared_ptr<Inode> inode;
    uint64_t nlookup = 0;
  };

  mutable std::mutex mu_;
  std::shared_ptr<Inode> root_;
  uint64_t next_id_ = 2;  // FUSE_ROOT_ID is 1
  std::unordered_map<uint64_t, Entry> by_id_;
  std::unordered_map<Key, uint64_t, KeyHash> by_key_;
};

}  // namespace vmrt::fuse
