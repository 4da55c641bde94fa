#include "vmm/devices/fs/fs_device.h"

#include <linux/virtio_fs.h>
#include <linux/virtio_ids.h>
#include <spdlog/spdlog.h>

#include <cstring>

#include "common/error.h"
#include "common/event_fd.h"
#include "common/json_fields.h"
#include "vmm/devices/fs/activation.h"

namespace vmrt::vmm::fs {

namespace {
// Activation maps RAM and opens the share; reset waits for the workers,
// which give up any lock wait at once. Longer means a stuck server.
constexpr std::chrono::seconds kCommandTimeout{10};
}  // namespace

// The server takes every queue the device can offer in one command.
static_assert(1 + FsDevice::kMaxRequestQueues == wire::kMaxQueues);

FsConfig FsDevice::checked(FsConfig config) {
  if (config.tag.empty() || config.tag.size() > sizeof(virtio_fs_config::tag))
    fail("virtio-fs: tag \"{}\" must be 1 to {} bytes", config.tag, sizeof(virtio_fs_config::tag));
  if (config.request_queues == 0 || config.request_queues > kMaxRequestQueues)
    fail("virtio-fs: {} request queues requested: 1 to {} are supported", config.request_queues,
         kMaxRequestQueues);
  return config;
}

FsDevice::FsDevice(FsConfig config)
    : config_(checked(std::move(config))),
      server_(FileServerProcess::spawn(config_.server, config_.confine_server, counters_.get())) {
  if (config_.relay)
    bounce_.emplace(GuestMemory::create(relay_memory_bytes(relay_request_cap(config_.server))));
}

FsDevice::~FsDevice() { reset(); }

uint32_t FsDevice::device_type() const { return VIRTIO_ID_FS; }

std::vector<uint16_t> FsDevice::queue_max_sizes() const {
  // The high-priority queue, then the request queues.
  return std::vector<uint16_t>(1 + config_.request_queues, kQueueSize);
}

void FsDevice::read_config(uint64_t offset, std::span<uint8_t> data) const {
  virtio_fs_config cfg{};
  std::memcpy(cfg.tag, config_.tag.data(), config_.tag.size());
  cfg.num_request_queues = config_.request_queues;
  virtio::read_config_bytes(cfg, offset, data);
}

void FsDevice::activate(virtio::ActivateContext context) {
  UniqueFd used = make_eventfd("virtio-fs used entries");
  std::unique_ptr<FsRelay> relay;
  Activation a;
  if (bounce_) {
    std::vector<UniqueFd> kicks;
    for (size_t i = 0; i < context.queues.size(); ++i)
      kicks.push_back(make_eventfd("virtio-fs shadow queue"));
    // Before the server serves the shadow rings: this clears them.
    relay = std::make_unique<FsRelay>(*bounce_, relay_request_cap(config_.server),
                                      context.queues.size(), std::move(kicks), relay_stats_);
    a = relay_activation(context, *bounce_, used.get(), *relay);
  } else {
    a = direct_activation(context, used.get());
  }
  // Throws when the server is gone or cannot serve (the shared directory
  // vanished): the transport then reports NEEDS_RESET.
  wire::Reply reply = server_.call(a.cmd, a.fds, kCommandTimeout);
  if (!reply.ok) fail("virtio-fs: the file server cannot start serving: {}", reply.message);
  worker_ = std::make_unique<FsWorker>(std::move(context), server_, std::move(used), server_lost_,
                                       std::move(relay));
}

void FsDevice::reset() {
  if (!worker_) return;
  worker_.reset();
  wire::Command cmd{};
  cmd.op = wire::Op::Reset;
  try {
    wire::Reply reply = server_.call(cmd, {}, kCommandTimeout);
    if (!reply.ok) SPDLOG_ERROR("virtio-fs: the file server failed to reset: {}", reply.message);
  } catch (const Error& e) {
    // Killed by call(): nothing of it touches guest memory any more.
    SPDLOG_ERROR("{}", e.what());
  }
}

std::vector<virtio::QueuePositions> FsDevice::quiesce(std::span<const virtio::Queue> configured) {
  for (size_t i = 0; i < configured.size(); ++i) {
    const virtio::Queue& q = configured[i];
    if (!q.ready()) continue;
    uint16_t avail = q.ring_avail_idx(), used = q.ring_used_idx();
    if (avail != used)
      fail("virtio-fs: queue {}: {} requests in flight", i, static_cast<uint16_t>(avail - used));
    if (used != 0)
      fail(
          "virtio-fs: queue {} has served requests (used idx {}): only a virtio-fs device the "
          "guest never mounted can be snapshotted",
          i, used);
  }
  const FsCounters& c = counters_.get();
  uint64_t requests = c.malformed.load();
  for (const auto& n : c.requests) requests += n.load();
  if (requests != 0)
    fail(
        "virtio-fs: the file server has served {} requests: only a virtio-fs device the guest "
        "never mounted can be snapshotted",
        requests);
  return std::vector<virtio::QueuePositions>(configured.size());
}

nlohmann::json FsDevice::save_state() const { return {{"tag", config_.tag}}; }

void FsDevice::restore_state(const nlohmann::json& state) {
  const std::string source = "virtio-fs state";
  json_fields::Reader r(state, "device", source);
  std::string tag;
  r.required("tag", tag);
  if (tag != config_.tag)
    fail("{}: the snapshot's tag is \"{}\", this device's is \"{}\"", source, tag, config_.tag);
}

}  // namespace vmrt::vmm::fs
