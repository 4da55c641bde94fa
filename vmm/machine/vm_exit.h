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

  // 0 for the normal ends; otherwise 2 (panic), 3 (triple fault), 4 (KVM
  // error), 5 (a device's process ended).
  int exit_status() const;
  std::string describe() const;
};

}  // namespace vmrt::vmm
