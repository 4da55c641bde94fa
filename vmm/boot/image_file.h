#pragma once
// A kernel or initrd file, mapped read-only rather than read: a loader only
// touches the headers and the segments it copies into guest RAM (a vmlinux
// is mostly symbols and debug data), and nothing is copied twice. Errors
// name the file. The file is the host operator's; it must not be truncated
// while the VM is being set up (the pages would vanish under the loader).

#include <cstdint>
#include <span>
#include <string>

#include "common/mapping.h"

namespace vmrt::vmm::boot {

// Throws vmrt::Error for a missing, unreadable, empty or larger-than-`max`
// file.
class ImageFile {
 public:
  explicit ImageFile(Mapping map) : map_(std::move(map)) {}
  std::span<const uint8_t> bytes() const noexcept {
    return {static_cast<const uint8_t*>(map_.data()), map_.size()};
  }

 private:
  Mapping map_;
};

ImageFile read_image_file(const std::string& what, const std::string& path, uint64_t max);

}  // namespace vmrt::vmm::boot
