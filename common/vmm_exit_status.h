#pragma once
// vmrt-vmm's exit statuses. The VMM sets them; the sandbox reads them to
// tell a VM template that cannot be restored (discarded) from a restore
// that failed for any other reason (the template is kept).

namespace vmrt::vmm_exit {

inline constexpr int kNormal = 0;       // guest reboot or poweroff, or a stop the host asked for
inline constexpr int kSetupError = 1;   // a configuration or setup error
inline constexpr int kGuestPanic = 2;   // the guest kernel panicked
inline constexpr int kTripleFault = 3;  // a vCPU reset itself on a triple fault
inline constexpr int kKvmError = 4;     // KVM could not run the guest
inline constexpr int kDeviceLost = 5;   // a device's own process (the file server) ended
// The snapshot given with --restore was refused: unreadable, corrupt, or
// made for another memory size, vCPU count or device set.
inline constexpr int kSnapshotUnusable = 6;

}  // namespace vmrt::vmm_exit
