#include "vmm/machine/virtio_slots.h"

#include <linux/virtio_mmio.h>

#include "common/error.h"
#include "vmm/boot/layout.h"
#include "vmm/machine/virtio_slots_state.h"

namespace vmrt::vmm {

std::shared_ptr<virtio::MmioTransport> VirtioSlots::attach(
    std::shared_ptr<virtio::VirtioDevice> device) {
  auto slot = static_cast<uint32_t>(cmdline_.size());
  if (slot >= layout::kVirtioMaxSlots) fail("no free virtio-mmio slot (all {} in use)", slot);
  uint64_t base = layout::virtio_mmio_slot_address(slot);
  uint32_t irq = layout::virtio_mmio_slot_irq(slot);
  uint32_t type = device->device_type();
  auto transport = std::make_shared<virtio::MmioTransport>(machine_.memory(), std::move(device),
                                                           &machine_.device_control_thread());
  for (size_t q = 0; q < transport->queue_count(); ++q)
    machine_.vm().add_ioeventfd(transport->queue_event(q), base + VIRTIO_MMIO_QUEUE_NOTIFY, 4, q);
  machine_.vm().add_irqfd(transport->interrupt().eventfd(), irq);
  machine_.mmio_bus().add(base, layout::kVirtioMmioSize, transport,
                          fmt::format("virtio-mmio slot {} (device type {})", slot, type));
  cmdline_.push_back(fmt::format("virtio_mmio.device=4K@{:#x}:{}", base, irq));
  transports_.push_back(transport);
  return transport;
}

std::string VirtioSlots::kernel_cmdline() const {
  std::string out;
  for (const auto& s : cmdline_) out += (out.empty() ? "" : " ") + s;
  return out;
}

void VirtioSlots::quiesce() {
  for (size_t i = 0; i < transports_.size(); ++i) {
    try {
      transports_[i]->quiesce();
    } catch (...) {
      for (size_t j = 0; j < i; ++j) transports_[j]->resume();
      throw;
    }
  }
}

void VirtioSlots::resume() {
  for (auto& t : transports_) t->resume();
}

nlohmann::json VirtioSlots::save_state() {
  nlohmann::json slots = nlohmann::json::array();
  for (auto& t : transports_)
    slots.push_back({{"device_type", t->device().device_type()}, {"transport", t->save_state()}});
  return slots;
}

void VirtioSlots::restore_state(const nlohmann::json& state) {
  std::vector<const virtio::VirtioDevice*> devices;
  for (auto& t : transports_) devices.push_back(&t->device());
  (void)parse_slots_state(state, devices);
  for (size_t i = 0; i < transports_.size(); ++i) {
    try {
      transports_[i]->restore_state(state[i].at("transport"));
    } catch (const Error& e) {
      fail("slot {}: {}", i, e.what());
    }
  }
}

}  // namespace vmrt::vmm
