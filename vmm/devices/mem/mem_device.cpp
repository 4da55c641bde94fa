#include "vmm/devices/mem/mem_device.h"

#include <endian.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_mem.h>
#include <spdlog/spdlog.h>

#include "common/error.h"
#include "common/json_fields.h"
#include "vmm/virtio/loop_quiesce.h"

namespace vmrt::vmm::mem {

MemDevice::MemDevice(HotplugRegion& region) : region_(region) {
  SPDLOG_INFO("virtio-mem: region {:#x}+{} MiB in {} MiB blocks", region_.gpa(),
              region_.size() >> 20, HotplugRegion::kBlockSize >> 20);
}

MemDevice::~MemDevice() { reset(); }

uint32_t MemDevice::device_type() const { return VIRTIO_ID_MEM; }

uint64_t MemDevice::device_features() const {
  return uint64_t{1} << VIRTIO_MEM_F_UNPLUGGED_INACCESSIBLE;
}

void MemDevice::read_config(uint64_t offset, std::span<uint8_t> data) const {
  virtio_mem_config cfg{};
  cfg.block_size = htole64(HotplugRegion::kBlockSize);
  cfg.node_id = 0;
  cfg.addr = htole64(region_.gpa());
  cfg.region_size = htole64(region_.size());
  cfg.usable_region_size = htole64(region_.size());
  {
    std::lock_guard lock(state_.mu);
    cfg.plugged_size = htole64(region_.plugged_bytes());
    cfg.requested_size = htole64(state_.requested);
  }
  virtio::read_config_bytes(cfg, offset, data);
}

uint32_t MemDevice::config_generation() const {
  std::lock_guard lock(state_.mu);
  return state_.generation;
}

void MemDevice::activate(virtio::ActivateContext context) {
  SPDLOG_DEBUG("virtio-mem: driver ready, features {:#x}", context.features);
  {
    std::lock_guard lock(state_.mu);
    state_.interrupt = &context.interrupt;
  }
  worker_ = std::make_unique<MemWorker>(std::move(context), region_, state_, counters_);
}

void MemDevice::reset() {
  {
    std::lock_guard lock(state_.mu);
    state_.interrupt = nullptr;
  }
  // The blocks stay as they are: a new driver finds plugged_size and
  // unplugs all first (the spec keeps block states across a reset).
  worker_.reset();
  quiesced_.reset();
}

std::vector<virtio::QueuePositions> MemDevice::quiesce(std::span<const virtio::Queue>) {
  return virtio::park_worker(worker_, quiesced_, "virtio-mem");
}

void MemDevice::resume() {
  if (!quiesced_) return;
  worker_ = std::make_unique<MemWorker>(std::move(*quiesced_), region_, state_, counters_);
  quiesced_.reset();
}

nlohmann::json MemDevice::save_state() const {
  if (uint64_t plugged = region_.plugged_bytes())
    fail("virtio-mem: {} MiB are plugged, and a snapshot holds only boot RAM", plugged >> 20);
  std::lock_guard lock(state_.mu);
  return {{"region_size", region_.size()}, {"requested_size", state_.requested}};
}

void MemDevice::restore_state(const nlohmann::json& state) {
  const std::string source = "virtio-mem state";
  json_fields::Reader r(state, "device", source);
  uint64_t region = 0, requested = 0;
  r.required("region_size", region);
  r.required("requested_size", requested);
  if (region != region_.size())
    fail("{}: the snapshot's hotplug region is {} MiB, this VM's is {} MiB", source, region >> 20,
         region_.size() >> 20);
  if (requested % HotplugRegion::kBlockSize || requested > region)
    fail("{}: requested size {} is not a multiple of the block size within the region", source,
         requested);
  std::lock_guard lock(state_.mu);
  state_.requested = requested;
}

void MemDevice::set_requested_size(uint64_t bytes) {
  if (bytes % HotplugRegion::kBlockSize)
    fail("virtio-mem: requested size of {} bytes is not a multiple of the {} MiB block size", bytes,
         HotplugRegion::kBlockSize >> 20);
  if (bytes > region_.size())
    fail("virtio-mem: requested {} MiB is more than the {} MiB hotplug region", bytes >> 20,
         region_.size() >> 20);
  std::lock_guard lock(state_.mu);
  if (state_.requested == bytes) return;
  state_.requested = bytes;
  ++state_.generation;
  if (state_.interrupt) state_.interrupt->signal_config();
  SPDLOG_INFO("virtio-mem: requested size {} MiB", bytes >> 20);
}

MemStatus MemDevice::status() const {
  std::lock_guard lock(state_.mu);
  return {region_.size(), HotplugRegion::kBlockSize, state_.requested, region_.plugged_bytes()};
}

}  // namespace vmrt::vmm::mem
