#pragma once
// A whole micro-VM: guest RAM, the KVM VM and its vCPUs (one thread each),
// the port-I/O and MMIO buses with their devices, and the run/pause/stop
// lifecycle. The VMM's main loop and the kvm tests both drive this class.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <thread>
#include <vector>

#include "common/fd.h"
#include "vmm/devices/bus.h"
#include "vmm/devices/i8042/i8042.h"
#include "vmm/devices/serial/serial.h"
#include "vmm/kvm/kvm.h"
#include "vmm/kvm/vcpu.h"
#include "vmm/kvm/vm.h"
#include "vmm/machine/console_monitor.h"
#include "vmm/machine/exit_counters.h"
#include "vmm/machine/vm_exit.h"
#include "vmm/memory/guest_memory.h"
#include "vmm/security/roles.h"
#include "vmm/virtio/device_control_thread.h"

namespace vmrt::vmm {

struct MachineConfig {
  uint64_t mem_bytes = 128 << 20;
  bool hugepages = false;
  // vCPUs the guest starts at boot (the kernel command line's maxcpus=).
  uint32_t cpus = 1;
  // vCPUs the VM has: all of them in the MP table and created in KVM, those
  // beyond `cpus` left waiting for an INIT/SIPI until the guest brings them
  // online (CPU hotplug without ACPI). 0: as many as `cpus`.
  uint32_t max_cpus = 0;
  // Receives the guest's serial output (console).
  std::function<void(std::span<const uint8_t>)> console;
  std::string kvm_path = "/dev/kvm";
  // A /dev/kvm already open (borrowed, duplicated): a jailed VMM opens it
  // before it drops its privileges. -1: kvm_path is opened.
  int kvm_fd = -1;
  // Each vCPU thread confines itself with the vCPU role's filter before its
  // first KVM_RUN, the device control thread with the device role's.
  security::SeccompMode seccomp = security::SeccompMode::Off;
};

enum class RunState { Created, Running, Paused, Ended };

class Machine {
 public:
  // Creates RAM, the VM, vCPUs and the legacy devices; throws vmrt::Error.
  static std::unique_ptr<Machine> create(MachineConfig config);
  // The same on RAM made elsewhere: a snapshot's memory file mapped with
  // GuestMemory::map_private. Its size must be config.mem_bytes.
  static std::unique_ptr<Machine> create(MachineConfig config, GuestMemory memory);
  ~Machine();

  const GuestMemory& memory() const noexcept { return mem_; }
  const Kvm& kvm() const noexcept { return kvm_; }
  const Vm& vm() const noexcept { return vm_; }
  Vcpu& vcpu(uint32_t i) { return vcpus_.at(i); }
  // Every vCPU, started by the guest or not (MachineConfig::max_cpus).
  uint32_t vcpu_count() const noexcept { return static_cast<uint32_t>(vcpus_.size()); }
  // How many of them the guest starts at boot (MachineConfig::cpus).
  uint32_t boot_vcpu_count() const noexcept { return config_.cpus; }
  // How often vCPU `i`'s KVM_RUN returned for anything but the host's own
  // kicks: exits the VMM handled and wake-ups of a vCPU waiting for
  // INIT/SIPI. A vCPU the guest never started or keeps offline stays at 0:
  // it waits inside KVM and costs no host CPU.
  uint64_t vcpu_exits(uint32_t i) const { return exits_.at(i)->total(); }
  // The same summed over every vCPU, for one reason.
  uint64_t vcpu_exits(ExitReason r) const;
  // The VMM's start-up cost, measured when vCPU 0 first enters the guest:
  // the whole process's CPU time and the time since the VMM process
  // started, in microseconds (at least 1 once measured; 0 until then).
  uint64_t setup_cpu_us() const noexcept { return setup_cpu_us_.load(); }
  uint64_t first_run_us() const noexcept { return first_run_us_.load(); }
  Bus& pio_bus() noexcept { return pio_; }
  Bus& mmio_bus() noexcept { return mmio_; }
  Serial& serial() noexcept { return *serial_; }
  const ConsoleMonitor& console_monitor() const noexcept { return monitor_; }
  // Where virtio devices start and stop (vmm/virtio/device_control_thread.h).
  virtio::DeviceControlThread& device_control_thread() noexcept { return device_control_; }

  // CPUID, MSRs, FPU and LAPIC of every vCPU as a kernel expects after
  // firmware. (Register state of the boot vCPU is the loader's business.)
  void init_vcpus_for_boot();

  // The state of the vCPUs, the in-kernel irqchip, PIT and clock, the
  // legacy devices and the RAM layout (vmm/snapshot/machine_state.h); RAM
  // itself goes to a memory file (vmm/snapshot/memory_file.h). The machine
  // must be paused; throws vmrt::Error otherwise.
  nlohmann::json save_state();
  // Instead of a kernel loader and init_vcpus_for_boot: after create() on
  // the snapshot's RAM and before start(). Validates the whole document
  // (vCPU count and RAM layout must match this machine) before applying it.
  void restore_state(const nlohmann::json& doc);

  // Starts one thread per vCPU.
  void start();
  // Readable (an eventfd) once the VM has ended; then call wait().
  int end_fd() const noexcept { return end_fd_.get(); }
  // Blocks until the VM ends, stops and joins every vCPU thread.
  VmExit wait();
  // Ends the VM from the host side (first end reason wins).
  void stop(std::string why);
  // Ends the VM because a device's own process died (exit status 5): the
  // guest would otherwise hang on a device nothing serves.
  void device_lost(std::string why);
  void pause();
  void resume();
  RunState state() const;

 private:
  Machine(MachineConfig config, Kvm kvm, GuestMemory mem, Vm vm);
  void vcpu_loop(Vcpu& vcpu);
  bool handle_exit(Vcpu& vcpu);
  bool complete_pending_exit(Vcpu& vcpu);
  void end(ExitKind kind, std::string detail);
  void kick_all();
  void guest_reset();

  MachineConfig config_;
  Kvm kvm_;
  GuestMemory mem_;
  Vm vm_;
  std::vector<Vcpu> vcpus_;
  std::vector<std::unique_ptr<VcpuExitCounts>> exits_;  // per vCPU
  std::atomic<uint64_t> setup_cpu_us_{0};
  std::atomic<uint64_t> first_run_us_{0};
  std::vector<std::thread> threads_;
  // Before the buses: the transports on them stop their devices on it.
  virtio::DeviceControlThread device_control_;
  Bus pio_{"port I/O"};
  Bus mmio_{"MMIO"};
  std::shared_ptr<Serial> serial_;
  std::shared_ptr<I8042> i8042_;
  ConsoleMonitor monitor_;
  UniqueFd end_fd_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  RunState state_ = RunState::Created;
  std::atomic<bool> ending_{false};
  std::optional<VmExit> exit_;
  uint32_t parked_ = 0;
};

}  // namespace vmrt::vmm
