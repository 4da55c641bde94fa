#include "vmm/devices/i8042/i8042.h"

#include <algorithm>

namespace vmrt::vmm {

void I8042::read(uint64_t, std::span<uint8_t> data) {
  // Status 0: output buffer empty, input buffer empty; data 0.
  std::fill(data.begin(), data.end(), 0);
}

void I8042::write(uint64_t offset, std::span<const uint8_t> data) {
  if (offset == kCommandPort - kDataPort && data[0] == kCmdResetCpu && on_reset_) on_reset_();
}

}  // namespace vmrt::vmm
