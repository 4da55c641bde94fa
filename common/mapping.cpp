#include "common/mapping.h"

#include "common/error.h"

namespace vmrt {

Mapping Mapping::anonymous(size_t size, int prot, int extra_flags) {
  // mmap refuses 0 bytes with a bare EINVAL; say what was asked instead.
  if (size == 0) fail("cannot map 0 bytes of anonymous memory");
  void* p = ::mmap(nullptr, size, prot, MAP_PRIVATE | MAP_ANONYMOUS | extra_flags, -1, 0);
  if (p == MAP_FAILED) throw_errno(fmt::format("mmap of {} bytes of anonymous memory", size));
  return Mapping(p, size);
}

Mapping Mapping::of_fd(int fd, size_t size, off_t offset, int prot, int flags) {
  if (size == 0) fail("cannot map 0 bytes of fd {}", fd);
  void* p = ::mmap(nullptr, size, prot, flags, fd, offset);
  if (p == MAP_FAILED)
    throw_errno(fmt::format("mmap of {} bytes of fd {} at offset {}", size, fd, offset));
  return Mapping(p, size);
}

void Mapping::reset() noexcept {
  if (data_) ::munmap(data_, size_);
  data_ = nullptr;
  size_ = 0;
}

}  // namespace vmrt
