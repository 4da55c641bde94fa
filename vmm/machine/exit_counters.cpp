#include "vmm/machine/exit_counters.h"

#include <linux/kvm.h>

namespace vmrt::vmm {

ExitReason classify_exit(uint32_t kvm_exit_reason) noexcept {
  switch (kvm_exit_reason) {
    case KVM_EXIT_IO:
      return ExitReason::Io;
    case KVM_EXIT_MMIO:
      return ExitReason::Mmio;
    case KVM_EXIT_HLT:
      return ExitReason::Hlt;
    case KVM_EXIT_INTR:
      return ExitReason::Intr;
    case KVM_EXIT_SHUTDOWN:
      return ExitReason::Shutdown;
    case KVM_EXIT_SYSTEM_EVENT:
      return ExitReason::SystemEvent;
    default:
      return ExitReason::Other;
  }
}

const char* exit_reason_name(ExitReason r) noexcept {
  switch (r) {
    case ExitReason::Io:
      return "io";
    case ExitReason::Mmio:
      return "mmio";
    case ExitReason::Hlt:
      return "hlt";
    case ExitReason::Intr:
      return "intr";
    case ExitReason::Shutdown:
      return "shutdown";
    case ExitReason::SystemEvent:
      return "system_event";
    case ExitReason::Wake:
      return "wake";
    case ExitReason::Other:
      return "other";
  }
  return "other";
}

}  // namespace vmrt::vmm
