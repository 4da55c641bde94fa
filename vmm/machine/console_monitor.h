#pragma once
// Watches the guest console for the kernel's last words. A micro-VM without
// ACPI or pvpanic has no device through which the kernel reports a panic or a
// power-off: a panic ends in a reset (panic=-1), and a power-off without a
// power device becomes a halt, every CPU stopped with interrupts off. The
// kernel's own console lines tell these apart from a reboot, so the VMM can
// exit 0 for reboot/poweroff and non-zero, with the reason, for a panic.
//
// A guest root user can print these lines too; the only effect is a
// different exit status for a VM that is ending anyway.

#include <cstdint>
#include <mutex>
#include <optional>
#include <span>
#include <string>

namespace vmrt::vmm {

class ConsoleMonitor {
 public:
  void feed(std::span<const uint8_t> bytes);

  // "Kernel panic - not syncing: ..." text, once seen.
  std::optional<std::string> panic_message() const;
  // True once the kernel printed its halt or power-down line: nothing runs
  // after it, so the VM can end.
  bool halted() const;

 private:
  void finish_line();

  mutable std::mutex mu_;
  std::string line_;
  std::optional<std::string> panic_;
  bool halted_ = false;
};

}  // namespace vmrt::vmm
