#pragma once
// The part of the i8042 keyboard controller a micro-VM needs: the guest's
// reset command (0xfe to port 0x64, what `reboot=k` uses) ends the VM.
// Reads report an idle controller with no data.

#include <cstdint>
#include <functional>

#include "vmm/devices/bus.h"

namespace vmrt::vmm {

class I8042 : public BusDevice {
 public:
  static constexpr uint64_t kDataPort = 0x60;
  static constexpr uint64_t kCommandPort = 0x64;
  static constexpr uint8_t kCmdResetCpu = 0xfe;

  explicit I8042(std::function<void()> on_reset) : on_reset_(std::move(on_reset)) {}

  // Registered at kDataPort with length 5 (0x60..0x64).
  void read(uint64_t offset, std::span<uint8_t> data) override;
  void write(uint64_t offset, std::span<const uint8_t> data) override;

 private:
  std::function<void()> on_reset_;
};

}  // namespace vmrt::vmm
