#pragma once
// Sizes in error messages are in MiB, rounded up: a 100 KiB initrd that does
// not fit reads "1 MiB", never "0 MiB".

#include <cstdint>

namespace vmrt::vmm::boot {

constexpr uint64_t mib_ceil(uint64_t bytes) {
  return (bytes >> 20) + ((bytes & ((uint64_t{1} << 20) - 1)) != 0);
}

}  // namespace vmrt::vmm::boot
