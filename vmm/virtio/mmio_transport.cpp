#include "vmm/virtio/mmio_transport.h"

#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include <spdlog/spdlog.h>

#include <cstring>

#include "common/error.h"
#include "common/event_fd.h"
#include "vmm/virtio/mmio_transport_state.h"
#include "vmm/virtio/virtio_ring_abi.h"

namespace vmrt::vmm::virtio {

namespace {
constexpr uint32_t kMagic = 0x74726976;   // "virt"
constexpr uint32_t kVersion = 2;          // virtio 1.x register layout
constexpr uint32_t kVendor = 0x54524d56;  // "VMRT"
constexpr uint64_t kConfigSpace = 0x100;

uint64_t set_half(uint64_t whole, uint32_t value, bool high) {
  return high ? (whole & 0xffffffffull) | (uint64_t{value} << 32)
              : (whole & ~0xffffffffull) | value;
}
}  // namespace

MmioTransport::MmioTransport(const GuestMemory& mem, std::shared_ptr<VirtioDevice> device,
                             DeviceControlThread* control)
    : mem_(mem),
      device_(std::move(device)),
      control_(control),
      offered_features_(device_->device_features() | kTransportFeatures) {
  for (uint16_t max : device_->queue_max_sizes()) {
    if (max == 0 || (max & (max - 1)) != 0 || max > 32768)
      throw Error(fmt::format("virtio device {}: queue size {} is not a power of two up to 32768",
                              device_->device_type(), max));
    queues_.emplace_back(max);
    queue_events_.push_back(make_eventfd("a virtio queue"));
  }
}

MmioTransport::~MmioTransport() { shutdown(); }

void MmioTransport::shutdown() {
  std::lock_guard lock(mu_);
  reset_locked();
}

void MmioTransport::read(uint64_t offset, std::span<uint8_t> data) {
  if (offset >= kConfigSpace) {
    std::memset(data.data(), 0, data.size());
    device_->read_config(offset - kConfigSpace, data);
    return;
  }
  uint32_t value = 0;
  if (data.size() == 4 && offset % 4 == 0) {
    std::lock_guard lock(mu_);
    value = read_register(offset);
  }
  std::memcpy(data.data(), &value, std::min(data.size(), sizeof value));
}

void MmioTransport::write(uint64_t offset, std::span<const uint8_t> data) {
  if (offset >= kConfigSpace) {
    device_->write_config(offset - kConfigSpace, data);
    return;
  }
  if (data.size() != 4 || offset % 4 != 0) {
    SPDLOG_DEBUG("virtio-mmio: ignored {}-byte write at {:#x}", data.size(), offset);
    return;
  }
  uint32_t value;
  std::memcpy(&value, data.data(), 4);
  if (offset == VIRTIO_MMIO_QUEUE_NOTIFY) {
    // Without an ioeventfd the notification lands here; same effect.
    if (value < queue_events_.size()) {
      signal_eventfd(queue_events_[value].get());
    }
    return;
  }
  std::lock_guard lock(mu_);
  write_register(offset, value);
}

Queue* MmioTransport::selected_queue() {
  return queue_sel_ < queues_.size() ? &queues_[queue_sel_] : nullptr;
}

uint32_t MmioTransport::read_register(uint64_t offset) {
  Queue* q = selected_queue();
  switch (offset) {
    case VIRTIO_MMIO_MAGIC_VALUE:
      return kMagic;
    case VIRTIO_MMIO_VERSION:
      return kVersion;
    case VIRTIO_MMIO_DEVICE_ID:
      return device_->device_type();
    case VIRTIO_MMIO_VENDOR_ID:
      return kVendor;
    case VIRTIO_MMIO_DEVICE_FEATURES:
      return device_features_sel_ < 2
                 ? static_cast<uint32_t>(offered_features_ >> (32 * device_features_sel_))
                 : 0;
    case VIRTIO_MMIO_QUEUE_NUM_MAX:
      return q ? q->max_size() : 0;
    case VIRTIO_MMIO_QUEUE_READY:
      return q && q->ready() ? 1 : 0;
    case VIRTIO_MMIO_INTERRUPT_STATUS:
      return interrupt_.status();
    case VIRTIO_MMIO_STATUS:
      return status();
    case VIRTIO_MMIO_CONFIG_GENERATION:
      return config_generation_ + device_->config_generation();
    // No shared memory regions: a length of all ones says "none" to Linux.
    case VIRTIO_MMIO_SHM_LEN_LOW:
    case VIRTIO_MMIO_SHM_LEN_HIGH:
    case VIRTIO_MMIO_SHM_BASE_LOW:
    case VIRTIO_MMIO_SHM_BASE_HIGH:
      return 0xffffffff;
    default:
      return 0;
  }
}

void MmioTransport::write_register(uint64_t offset, uint32_t value) {
  uint32_t st = status();
  // Queue and feature registers are the driver's only before DRIVER_OK.
  bool configurable = !(st & VIRTIO_CONFIG_S_DRIVER_OK) && !(st & VIRTIO_CONFIG_S_FAILED);
  Queue* q = selected_queue();
  switch (offset) {
    case VIRTIO_MMIO_DEVICE_FEATURES_SEL:
      device_features_sel_ = value;
      return;
    case VIRTIO_MMIO_DRIVER_FEATURES_SEL:
      driver_features_sel_ = value;
      return;
    case VIRTIO_MMIO_DRIVER_FEATURES:
      if (configurable && !(st & VIRTIO_CONFIG_S_FEATURES_OK) && driver_features_sel_ < 2)
        driver_features_ = set_half(driver_features_, value, driver_features_sel_ == 1);
      return;
    case VIRTIO_MMIO_QUEUE_SEL:
      queue_sel_ = value;
      return;
    case VIRTIO_MMIO_INTERRUPT_ACK:
      interrupt_.acknowledge(value);
      return;
    case VIRTIO_MMIO_STATUS:
      write_status(value);
      return;
    default:
      break;
  }
  if (!q || !configurable) {
    SPDLOG_DEBUG("virtio-mmio: ignored write {:#x} to register {:#x}", value, offset);
    return;
  }
  switch (offset) {
    case VIRTIO_MMIO_QUEUE_NUM:
      q->set_size(static_cast<uint16_t>(std::min<uint32_t>(value, 0xffff)));
      break;
    case VIRTIO_MMIO_QUEUE_READY:
      q->set_ready(value == 1);
      break;
    case VIRTIO_MMIO_QUEUE_DESC_LOW:
      q->set_desc_table(set_half(q->desc_table(), value, false));
      break;
    case VIRTIO_MMIO_QUEUE_DESC_HIGH:
      q->set_desc_table(set_half(q->desc_table(), value, true));
      break;
    case VIRTIO_MMIO_QUEUE_AVAIL_LOW:
      q->set_avail_ring(set_half(q->avail_ring(), value, false));
      break;
    case VIRTIO_MMIO_QUEUE_AVAIL_HIGH:
      q->set_avail_ring(set_half(q->avail_ring(), value, true));
      break;
    case VIRTIO_MMIO_QUEUE_USED_LOW:
      q->set_used_ring(set_half(q->used_ring(), value, false));
      break;
    case VIRTIO_MMIO_QUEUE_USED_HIGH:
      q->set_used_ring(set_half(q->used_ring(), value, true));
      break;
    default:
      SPDLOG_DEBUG("virtio-mmio: ignored write {:#x} to register {:#x}", value, offset);
  }
}

void MmioTransport::write_status(uint32_t value) {
  if (value == 0) {
    reset_locked();
    return;
  }
  uint32_t st = status();
  // The driver only ever adds bits (virtio 1.x, 3.1.1); anything else is a
  // confused driver, refused without changing state.
  if ((value & st) != st) {
    warn_limit_.warn("virtio-mmio: device {}: status {:#x} -> {:#x} clears bits; ignored",
                     device_->device_type(), st, value);
    return;
  }
  uint32_t added = value & ~st;
  if (added & VIRTIO_CONFIG_S_FEATURES_OK) {
    bool subset = (driver_features_ & ~offered_features_) == 0;
    bool modern = driver_features_ & (1ull << VIRTIO_F_VERSION_1);
    if (!subset || !modern) {
      warn_limit_.warn("virtio-mmio: device {}: driver features {:#x} refused (offered {:#x})",
                       device_->device_type(), driver_features_, offered_features_);
      value &= ~VIRTIO_CONFIG_S_FEATURES_OK;  // the driver reads it back and gives up
    }
  }
  if ((added & VIRTIO_CONFIG_S_DRIVER_OK) && !activated_) {
    if (!(value & VIRTIO_CONFIG_S_FEATURES_OK)) {
      status_.store(value | VIRTIO_CONFIG_S_NEEDS_RESET, std::memory_order_release);
      return;
    }
    bool event_idx = driver_features_ & (1ull << VIRTIO_RING_F_EVENT_IDX);
    bool indirect = driver_features_ & (1ull << VIRTIO_RING_F_INDIRECT_DESC);
    try {
      for (Queue& q : queues_) {
        q.set_features(event_idx, indirect);
        if (q.ready()) q.activate(mem_);
      }
    } catch (const QueueError& e) {
      warn_limit_.warn("virtio-mmio: device {}: {}", device_->device_type(), e.what());
      status_.store(value | VIRTIO_CONFIG_S_NEEDS_RESET, std::memory_order_release);
      interrupt_.signal_config();
      return;
    }
    status_.store(value, std::memory_order_release);
    // A device that cannot start (no thread, shared directory gone) must not
    // take the vCPU thread that wrote the status down with it.
    try {
      activate_device();
    } catch (const std::exception& e) {
      needs_reset(fmt::format("cannot start: {}", e.what()));
    }
    return;
  }
  status_.store(value, std::memory_order_release);
}

void MmioTransport::activate_device() {
  std::vector<int> events;
  for (auto& fd : queue_events_) events.push_back(fd.get());
  on_control_thread([&] {
    device_->activate(ActivateContext{mem_, queues_, std::move(events), interrupt_,
                                      driver_features_,
                                      [this](const std::string& why) { needs_reset(why); }});
  });
  activated_ = true;
}

void MmioTransport::needs_reset(const std::string& why) {
  warn_limit_.warn("virtio-mmio: device {} needs reset: {}", device_->device_type(), why);
  status_.fetch_or(VIRTIO_CONFIG_S_NEEDS_RESET, std::memory_order_acq_rel);
  interrupt_.signal_config();
}

void MmioTransport::on_control_thread(const std::function<void()>& job) {
  if (control_)
    control_->run(job);
  else
    job();
}

void MmioTransport::reset_locked() {
  if (activated_) on_control_thread([this] { device_->reset(); });
  activated_ = false;
  quiesced_.reset();
  for (Queue& q : queues_) q.reset();
  for (auto& fd : queue_events_) drain_eventfd(fd.get());
  device_features_sel_ = driver_features_sel_ = queue_sel_ = 0;
  driver_features_ = 0;
  ++config_generation_;
  interrupt_.clear();
  status_.store(0, std::memory_order_release);
}

}  // namespace vmrt::vmm::virtio
