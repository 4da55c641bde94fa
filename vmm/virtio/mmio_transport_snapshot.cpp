// MmioTransport's snapshot half: quiescing the device, saving the registers
// and queues, and restoring them into a fresh transport (the format and its
// checks are in mmio_transport_state.h).
#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>

#include "common/error.h"
#include "vmm/virtio/mmio_transport.h"
#include "vmm/virtio/mmio_transport_state.h"

namespace vmrt::vmm::virtio {

std::vector<QueuePositions> VirtioDevice::quiesce(std::span<const Queue> /*configured*/) {
  fail("{} cannot be snapshotted", device_name(device_type()));
}

void VirtioDevice::restore_state(const nlohmann::json& state) {
  if (!state.is_null())
    fail("{} state: the device keeps no state, the snapshot has {}", device_name(device_type()),
         state.type_name());
}

void MmioTransport::quiesce() {
  std::lock_guard lock(mu_);
  if (quiesced_) return;
  const std::string name = device_name(device_->device_type());
  uint32_t st = status();
  if (st & (VIRTIO_CONFIG_S_NEEDS_RESET | VIRTIO_CONFIG_S_FAILED))
    fail("{}: the device needs reset or its driver gave up (status {:#x}); not snapshotted", name,
         st);
  if (!activated_) {
    // Between FEATURES_OK and DRIVER_OK the driver writes queue registers
    // that a snapshot keeps only for running queues.
    bool setting_up = st & VIRTIO_CONFIG_S_FEATURES_OK;
    for (const Queue& q : queues_)
      setting_up |= q.ready() || q.desc_table() || q.avail_ring() || q.used_ring();
    if (setting_up)
      fail("{}: its driver is setting it up (status {:#x}); snapshot once it runs", name, st);
    quiesced_.emplace(queues_.size());
    return;
  }
  std::vector<QueuePositions> positions;
  on_control_thread([&] { positions = device_->quiesce(queues_); });
  if (positions.size() != queues_.size()) {
    on_control_thread([&] { device_->resume(); });
    fail("{}: quiesce reported {} queues of {}", name, positions.size(), queues_.size());
  }
  quiesced_ = std::move(positions);
}

void MmioTransport::resume() {
  std::lock_guard lock(mu_);
  if (!quiesced_) return;
  if (activated_) on_control_thread([this] { device_->resume(); });
  quiesced_.reset();
}

bool MmioTransport::quiesced() const {
  std::lock_guard lock(mu_);
  return quiesced_.has_value();
}

nlohmann::json MmioTransport::save_state() {
  std::lock_guard lock(mu_);
  if (!quiesced_)
    fail("{}: saved without being quiesced first", device_name(device_->device_type()));
  TransportState s;
  s.device_type = device_->device_type();
  s.status = status();
  s.device_features_sel = device_features_sel_;
  s.driver_features_sel = driver_features_sel_;
  s.driver_features = driver_features_;
  s.queue_sel = queue_sel_;
  s.interrupt_status = interrupt_.status();
  s.config_generation = config_generation_;
  s.activated = activated_;
  for (size_t i = 0; i < queues_.size(); ++i) {
    const Queue& q = queues_[i];
    QueueState e{q.size(), q.ready() && activated_};
    if (e.ready) {
      e.desc_table = q.desc_table();
      e.avail_ring = q.avail_ring();
      e.used_ring = q.used_ring();
      e.positions = (*quiesced_)[i];
    }
    s.queues.push_back(e);
  }
  s.device = device_->save_state();
  nlohmann::json j = transport_state_to_json(s);
  // What would not restore is refused now, while the VM still runs.
  (void)parse_transport_state(j, *device_);
  return j;
}

void MmioTransport::restore_state(const nlohmann::json& j) {
  std::lock_guard lock(mu_);
  const std::string name = device_name(device_->device_type());
  if (status() != 0 || activated_) fail("{}: restored into a transport a driver has used", name);
  TransportState s = parse_transport_state(j, *device_);
  device_->restore_state(s.device);
  try {
    device_features_sel_ = s.device_features_sel;
    driver_features_sel_ = s.driver_features_sel;
    driver_features_ = s.driver_features;
    queue_sel_ = s.queue_sel;
    bool event_idx = driver_features_ & (1ull << VIRTIO_RING_F_EVENT_IDX);
    bool indirect = driver_features_ & (1ull << VIRTIO_RING_F_INDIRECT_DESC);
    for (size_t i = 0; i < queues_.size(); ++i) {
      const QueueState& e = s.queues[i];
      Queue& q = queues_[i];
      q.set_size(e.size);
      q.set_ready(e.ready);
      q.set_desc_table(e.desc_table);
      q.set_avail_ring(e.avail_ring);
      q.set_used_ring(e.used_ring);
      q.set_features(event_idx, indirect);
      if (e.ready) q.activate(mem_, e.positions);
    }
    status_.store(s.status, std::memory_order_release);
    if (s.activated) activate_device();
  } catch (const std::exception& e) {
    reset_locked();
    fail("{}: cannot restore: {}", name, e.what());
  }
  // reset_locked() counts a generation; the driver's count is the snapshot's.
  config_generation_ = s.config_generation;
  // The driver has not acknowledged these yet: raised again, so that a
  // handler that had not run before the snapshot runs now.
  if (s.interrupt_status & VIRTIO_MMIO_INT_VRING) interrupt_.signal_used();
  if (s.interrupt_status & VIRTIO_MMIO_INT_CONFIG) interrupt_.signal_config();
}

}  // namespace vmrt::vmm::virtio
