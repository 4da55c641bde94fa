#pragma once
// Owning memory mapping: munmap'ed exactly once, movable, never copied, so a
// mapping cannot outlive its owner or be unmapped twice on an error path.

#include <sys/mman.h>
#include <sys/types.h>

#include <cstddef>
#include <span>
#include <utility>

namespace vmrt {

class Mapping {
 public:
  Mapping() = default;
  // `size` bytes of private zero-filled memory. `extra_flags` adds to
  // MAP_PRIVATE | MAP_ANONYMOUS (e.g. MAP_NORESERVE).
  static Mapping anonymous(size_t size, int prot = PROT_READ | PROT_WRITE, int extra_flags = 0);
  // `size` bytes of `fd` from `offset` (a multiple of the page size). The fd
  // may be closed afterwards: the mapping keeps the file alive.
  static Mapping of_fd(int fd, size_t size, off_t offset = 0, int prot = PROT_READ,
                       int flags = MAP_SHARED);

  Mapping(Mapping&& other) noexcept
      : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}
  Mapping& operator=(Mapping&& other) noexcept {
    if (this != &other) {
      reset();
      data_ = std::exchange(other.data_, nullptr);
      size_ = std::exchange(other.size_, 0);
    }
    return *this;
  }
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;
  ~Mapping() { reset(); }

  void* data() const noexcept { return data_; }
  size_t size() const noexcept { return size_; }
  std::span<std::byte> span() const noexcept { return {static_cast<std::byte*>(data_), size_}; }
  bool valid() const noexcept { return data_ != nullptr; }
  explicit operator bool() const noexcept { return valid(); }

  void reset() noexcept;

 private:
  Mapping(void* data, size_t size) : data_(data), size_(size) {}
  void* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace vmrt
