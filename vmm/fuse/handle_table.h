#pragma once
// Open files and directories the guest holds by FUSE file handle (fh). A
// handle from one table is never valid in the other, so a directory handle
// passed to READ is EBADF, not a confused descriptor. Entries are shared
// pointers: a RELEASE racing a READ on another queue closes the descriptor
// only after the READ is done with it.

#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>

namespace vmrt::fuse {

template <typename T>
class HandleTable {
 public:
  uint64_t add(std::shared_ptr<T> item) {
    std::lock_guard lock(mu_);
    uint64_t fh = next_++;
    items_[fh] = std::move(item);
    return fh;
  }
  std::shared_ptr<T> get(uint64_t fh) const {
    std::lock_guard lock(mu_);
    auto it = items_.find(fh);
    return it == items_.end() ? nullptr : it->second;
  }
  std::shared_ptr<T> remove(uint64_t fh) {
    std::lock_guard lock(mu_);
    auto it = items_.find(fh);
    if (it == items_.end()) return nullptr;
    auto item = std::move(it->second);
    items_.erase(it);
    return item;
  }
  void clear() {
    std::lock_guard lock(mu_);
    items_.clear();
  }
  size_t size() const {
    std::lock_guard lock(mu_);
    return items_.size();
  }

 private:
  mutable std::mutex mu_;
  uint64_t next_ = 1;
  std::unordered_map<uint64_t, std::shared_ptr<T>> items_;
};

}  // namespace vmrt::fuse
