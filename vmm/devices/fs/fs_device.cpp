#include "vmm/devices/fs/fs_device.h"

#include <linux/virtio_fs.h>
#include <linux/virtio_ids.h>
#include <poll.h>
#include <spdlog/spdlog.h>

#include <cstring>

#include "common/error.h"
#include "common/event_fd.h"

namespace vmrt::vmm::fs {

namespace {
std::vector<iovec> to_iovecs(const std::vector<virtio::Segment>& segs) {
  std::vector<iovec> iov;
  iov.reserve(segs.size());
  for (const auto& s : segs) iov.push_back({s.data, s.len});
  return iov;
}
}  // namespace

FsDevice::FsDevice(FsConfig config) : config_(std::move(config)) {
  if (config_.tag.empty() || config_.tag.size() > sizeof(virtio_fs_config::tag))
    fail("virtio-fs: tag \"{}\" must be 1 to {} bytes", config_.tag, sizeof(virtio_fs_config::tag));
  if (config_.request_queues == 0 || config_.request_queues > kMaxRequestQueues)
    fail("virtio-fs: {} request queues requested: 1 to {} are supported", config_.request_queues,
         kMaxRequestQueues);
  server_ = std::make_unique<fuse::Server>(config_.server);
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
  // Throws when the shared directory is gone; the transport then reports
  // NEEDS_RESET to the driver.
  if (!server_) server_ = std::make_unique<fuse::Server>(config_.server);
  ctx_ = std::make_unique<virtio::ActivateContext>(std::move(context));
  stop_ = make_eventfd("stopping the virtio-fs workers");
  for (size_t q = 0; q < ctx_->queues.size(); ++q)
    if (ctx_->queues[q].ready()) workers_.emplace_back([this, q] { serve(q); });
}

void FsDevice::reset() {
  if (!ctx_) return;
  server_->stop();  // SETLKW waiters give up, so the workers can be joined
  signal_eventfd(stop_.get());
  for (auto& t : workers_) t.join();
  workers_.clear();
  ctx_.reset();
  // A new driver starts a new FUSE session (INIT again, inodes from scratch):
  // activate() opens the shared directory anew.
  server_.reset();
}

void FsDevice::serve(size_t index) {
  virtio::Queue& q = ctx_->queues[index];
  int event = ctx_->queue_events[index];
  pollfd fds[2] = {{stop_.get(), POLLIN, 0}, {event, POLLIN, 0}};
  for (;;) {
    try {
      bool used = false;
      do {
        while (auto chain = q.pop()) {
          auto in = to_iovecs(chain->readable);
          auto out = to_iovecs(chain->writable);
          size_t n = server_->handle(in, out);
          q.add_used(chain->head, static_cast<uint32_t>(n));
          used = true;
        }
      } while (q.enable_notification());
      if (used && q.needs_interrupt()) ctx_->interrupt.signal_used();
    } catch (const virtio::QueueError& e) {
      ctx_->fail(e.what());
      return;
    }
    if (::poll(fds, 2, -1) < 0 && errno != EINTR) {
      SPDLOG_ERROR("virtio-fs: poll: {}", strerror(errno));
      return;
    }
    if (fds[0].revents) return;
    drain_eventfd(event);
  }
}

}  // namespace vmrt::vmm::fs
