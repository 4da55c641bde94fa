#include "vmm/fuse/inode_table.h"

#include <linux/fuse.h>
#include <sys/stat.h>

namespace vmrt::fuse {

InodeTable::InodeTable(UniqueFd root_fd, dev_t dev, ino_t ino)
    : root_(std::make_shared<Inode>(std::move(root_fd), dev, ino, S_IFDIR, FUSE_ROOT_ID)) {
  by_key_[{dev, ino}] = FUSE_ROOT_ID;
}

std::shared_ptr<Inode> InodeTable::get(uint64_t nodeid) const {
  if (nodeid == FUSE_ROOT_ID) return root_;
  std::lock_guard lock(mu_);
  auto it = by_id_.find(nodeid);
  return it == by_id_.end() ? nullptr : it->second.inode;
}

std::shared_ptr<Inode> InodeTable::find(dev_t dev, ino_t ino) const {
  std::lock_guard lock(mu_);
  auto it = by_key_.find({dev, ino});
  if (it == by_key_.end()) return nullptr;
  if (it->second == FUSE_ROOT_ID) return root_;
  return by_id_.at(it->second).inode;
}

std::shared_ptr<Inode> InodeTable::lookup(UniqueFd fd, const struct stat& st) {
  std::lock_guard lock(mu_);
  auto key = Key{st.st_dev, st.st_ino};
  if (auto it = by_key_.find(key); it != by_key_.end()) {
    // The root's lookups are not counted: it lives as long as the server.
    if (it->second == FUSE_ROOT_ID) return root_;
    Entry& e = by_id_.at(it->second);
    ++e.nlookup;
    return e.inode;
  }
  uint64_t id = next_id_++;
  auto inode = std::make_shared<Inode>(std::move(fd), st.st_dev, st.st_ino, st.st_mode, id);
  by_id_[id] = Entry{inode, 1};
  by_key_[key] = id;
  return inode;
}

void InodeTable::forget(uint64_t nodeid, uint64_t n) {
  std::shared_ptr<Inode> dropped;  // closed after the lock is released
  std::lock_guard lock(mu_);
  auto it = by_id_.find(nodeid);
  if (it == by_id_.end()) return;
  if (n < it->second.nlookup) {
    it->second.nlookup -= n;
    return;
  }
  dropped = std::move(it->second.inode);
  by_key_.erase({dropped->dev, dropped->ino});
  by_id_.erase(it);
}

void InodeTable::clear() {
  std::unordered_map<uint64_t, Entry> dropped;
  std::lock_guard lock(mu_);
  dropped.swap(by_id_);
  by_key_.clear();
  by_key_[{root_->dev, root_->ino}] = FUSE_ROOT_ID;
}

size_t InodeTable::size() const {
  std::lock_guard lock(mu_);
  return by_id_.size() + 1;
}

}  // namespace vmrt::fuse
