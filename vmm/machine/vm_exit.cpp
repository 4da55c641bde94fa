#include "vmm/machine/vm_exit.h"

#include "common/vmm_exit_status.h"

namespace vmrt::vmm {

int VmExit::exit_status() const {
  switch (kind) {
    case ExitKind::Reset:
    case ExitKind::PowerOff:
    case ExitKind::Stopped:
      return vmm_exit::kNormal;
    case ExitKind::Panic:
      return vmm_exit::kGuestPanic;
    case ExitKind::TripleFault:
      return vmm_exit::kTripleFault;
    case ExitKind::InternalError:
      return vmm_exit::kKvmError;
    case ExitKind::DeviceLost:
      return vmm_exit::kDeviceLost;
  }
  return vmm_exit::kKvmError;
}

std::string VmExit::describe() const {
  std::string what;
  switch (kind) {
    case ExitKind::Reset:
      what = "guest rebooted";
      break;
    case ExitKind::PowerOff:
      what = "guest powered off";
      break;
    case ExitKind::Stopped:
      what = "stopped by the host";
      break;
    case ExitKind::Panic:
      what = "guest kernel panic";
      break;
    case ExitKind::TripleFault:
      what = "guest triple fault";
      break;
    case ExitKind::InternalError:
      what = "KVM could not run the guest";
      break;
    case ExitKind::DeviceLost:
      what = "a device process ended";
      break;
  }
  return detail.empty() ? what : what + ": " + detail;
}

}  // namespace vmrt::vmm
