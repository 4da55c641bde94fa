#include "vmm/machine/vm_exit.h"

namespace vmrt::vmm {

int VmExit::exit_status() const {
  switch (kind) {
    case ExitKind::Reset:
    case ExitKind::PowerOff:
    case ExitKind::Stopped:
      return 0;
    case ExitKind::Panic:
      return 2;
    case ExitKind::TripleFault:
      return 3;
    case ExitKind::InternalError:
      return 4;
    case ExitKind::DeviceLost:
      return 5;
  }
  return 4;
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
