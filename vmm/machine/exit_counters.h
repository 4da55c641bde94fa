#pragma once
// Why a vCPU's KVM_RUN returned to the VMM, counted per vCPU and per reason
// for the control socket's "info" (vcpu_exits, vcpu_exit_reasons). Each
// vCPU thread writes only its own counters (relaxed atomics on a cache line
// of their own, no lock on the run loop); readers sum them.

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>

namespace vmrt::vmm {

enum class ExitReason : uint8_t {
  Io,           // KVM_EXIT_IO: port I/O (the serial console, the i8042)
  Mmio,         // KVM_EXIT_MMIO: virtio-mmio registers and notifications
  Hlt,          // KVM_EXIT_HLT (only without an in-kernel irqchip)
  Intr,         // KVM_EXIT_INTR: a signal arrived during the run
  Shutdown,     // KVM_EXIT_SHUTDOWN: a triple fault
  SystemEvent,  // KVM_EXIT_SYSTEM_EVENT: reset, power-off, crash
  Wake,         // a vCPU waiting for INIT/SIPI took one (KVM_RUN's EAGAIN)
  Other,        // anything else (it ends the VM)
};
inline constexpr size_t kExitReasons = static_cast<size_t>(ExitReason::Other) + 1;

// The reason of a KVM_RUN that returned 0 with `kvm_exit_reason`.
ExitReason classify_exit(uint32_t kvm_exit_reason) noexcept;
// Its name on the control socket and in metrics: "io", "mmio", ...
const char* exit_reason_name(ExitReason r) noexcept;

// One vCPU's exits; a cache line (or two) of its own so that vCPU threads
// do not contend on their counters.
struct alignas(64) VcpuExitCounts {
  std::array<std::atomic<uint64_t>, kExitReasons> by_reason{};

  void count(ExitReason r) noexcept {
    by_reason[static_cast<size_t>(r)].fetch_add(1, std::memory_order_relaxed);
  }
  uint64_t get(ExitReason r) const noexcept {
    return by_reason[static_cast<size_t>(r)].load(std::memory_order_relaxed);
  }
  uint64_t total() const noexcept {
    uint64_t n = 0;
    for (const auto& c : by_reason) n += c.load(std::memory_order_relaxed);
    return n;
  }
};

}  // namespace vmrt::vmm
