#pragma once
// Why a VM ended, and the vmrt-vmm exit status for it.

#include <string>

namespace vmrt::vmm {

enum class ExitKind {
  Reset,          // guest rebooted (i8042 reset): a normal end
  PowerOff,       // guest powered off: a normal end
  Stopped,        // the host asked (control socket, SIGTERM)
  Panic,          // guest kernel panic
  TripleFault,    // KVM_EXIT_SHUTDOWN: the vCPU reset itself on a triple fault
  InternalError,  // KVM could not run the guest (emulation failure, failed entry)
  DeviceLost,     // a device's own process ended (the virtio-fs file server)
};

struct VmExit {
  ExitKind kind = ExitKind::Stopped;
  std::string detail;

  // vmm_exit::kNormal for the normal ends, else the kind's status
  // (common/vmm_exit_status.h).
  int exit_status() const;
  std::string describe() const;
};

}  // namespace vmrt::vmm
