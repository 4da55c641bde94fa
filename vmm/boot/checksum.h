#pragma once
// The 8-bit checksum firmware tables use (MP, ACPI): the byte that makes all
// bytes of the structure sum to 0 modulo 256.

#include <cstdint>
#include <span>

namespace vmrt::vmm::boot {

// With the structure's checksum field still 0, the value to store there.
inline uint8_t checksum_byte(std::span<const uint8_t> bytes) {
  uint8_t sum = 0;
  for (uint8_t b : bytes) sum = static_cast<uint8_t>(sum + b);
  return static_cast<uint8_t>(-sum);
}

}  // namespace vmrt::vmm::boot
