#include "vmm/machine/console_monitor.h"

namespace vmrt::vmm {

namespace {
constexpr size_t kMaxLine = 512;
constexpr std::string_view kPanic = "Kernel panic - not syncing: ";
// Printed by kernel_halt() (what power-off becomes without a power device)
// and kernel_power_off().
constexpr std::string_view kHalted = "reboot: System halted";
constexpr std::string_view kPowerDown = "reboot: Power down";
}  // namespace

void ConsoleMonitor::feed(std::span<const uint8_t> bytes) {
  std::lock_guard lock(mu_);
  for (uint8_t b : bytes) {
    if (b == '\n') {
      finish_line();
    } else if (b != '\r' && line_.size() < kMaxLine) {
      line_.push_back(static_cast<char>(b));
    }
  }
}

void ConsoleMonitor::finish_line() {
  if (auto at = line_.find(kPanic); at != std::string::npos && !panic_) {
    panic_ = line_.substr(at + kPanic.size());
  } else if (line_.find(kHalted) != std::string::npos ||
             line_.find(kPowerDown) != std::string::npos) {
    halted_ = true;
  }
  line_.clear();
}

std::optional<std::string> ConsoleMonitor::panic_message() const {
  std::lock_guard lock(mu_);
  return panic_;
}

bool ConsoleMonitor::halted() const {
  std::lock_guard lock(mu_);
  return halted_;
}

}  // namespace vmrt::vmm
