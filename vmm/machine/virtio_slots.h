#pragma once
// Puts virtio devices on the machine's virtio-mmio slots (vmm/boot/layout.h):
// the register block on the MMIO bus, one KVM ioeventfd per queue on
// QueueNotify (so notifications skip the VMM's vCPU exit path) and a KVM
// irqfd on the slot's interrupt pin. The guest learns about each slot from
// the kernel command line.

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "vmm/machine/machine.h"
#include "vmm/virtio/device.h"
#include "vmm/virtio/mmio_transport.h"

namespace vmrt::vmm {

class VirtioSlots {
 public:
  explicit VirtioSlots(Machine& machine) : machine_(machine) {}

  // Attaches `device` to the next free slot; returns its transport (the
  // machine's MMIO bus keeps it alive).
  std::shared_ptr<virtio::MmioTransport> attach(std::shared_ptr<virtio::VirtioDevice> device);

  // "virtio_mmio.device=4K@0xd0000000:5 ..." for every attached device.
  std::string kernel_cmdline() const;

  // --- snapshots (format: virtio_slots_state.h) ---
  // With the vCPUs paused: stops every device for a snapshot, all or none:
  // when one refuses, those stopped already serve again and its error
  // ("virtio-vsock: 2 streams open") is thrown, for the caller to retry.
  void quiesce();
  // Serves again after quiesce().
  void resume();
  // Every slot's state, in slot order; between quiesce() and resume().
  // Throws vmrt::Error for a state that would not restore (the devices stay
  // quiesced: resume() either way).
  nlohmann::json save_state();
  // Restores save_state()'s output into the transports of this machine,
  // which must have the same device types attached in the same order and no
  // vCPU run yet. Everything is checked before any device is touched; throws
  // vmrt::Error.
  void restore_state(const nlohmann::json& state);

 private:
  Machine& machine_;
  std::vector<std::string> cmdline_;
  std::vector<std::shared_ptr<virtio::MmioTransport>> transports_;
};

}  // namespace vmrt::vmm
