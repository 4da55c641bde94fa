#include "vmm/devices/fs/fs_device.h"

#include <linux/virtio_fs.h>
#include <linux/virtio_ids.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <cstring>

#include "common/error.h"
#include "common/event_fd.h"

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
      server_(FileServerProcess::spawn(config_.server, config_.confine_server)) {}

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
  wire::Command cmd{};
  cmd.op = wire::Op::Activate;
  cmd.queue_count = static_cast<uint32_t>(context.queues.size());
  cmd.features = context.features;
  used_ = make_eventfd("virtio-fs used entries");
  std::vector<int> fds{context.mem.fd(), used_.get()};
  for (size_t i = 0; i < context.queues.size(); ++i) {
    const virtio::Queue& q = context.queues[i];
    cmd.queues[i] = {q.desc_table(),
                     q.avail_ring(),
                     q.used_ring(),
                     q.size(),
                     static_cast<uint16_t>(q.ready()),
                     0};
    fds.push_back(context.queue_events[i]);
  }
  // Throws when the server is gone or cannot serve (the shared directory
  // vanished): the transport then reports NEEDS_RESET.
  wire::Reply reply = server_.call(cmd, fds, kCommandTimeout);
  if (!reply.ok) fail("virtio-fs: the file server cannot start serving: {}", reply.message);
  ctx_ = std::make_unique<virtio::ActivateContext>(std::move(context));
  stop_ = make_eventfd("stopping the virtio-fs relay");
  relay_ = std::thread([this] { relay(); });
}

void FsDevice::reset() {
  if (!ctx_) return;
  signal_eventfd(stop_.get());
  relay_.join();
  wire::Command cmd{};
  cmd.op = wire::Op::Reset;
  try {
    wire::Reply reply = server_.call(cmd, {}, kCommandTimeout);
    if (!reply.ok) SPDLOG_ERROR("virtio-fs: the file server failed to reset: {}", reply.message);
  } catch (const Error& e) {
    // Killed by call(): nothing of it touches guest memory any more.
    SPDLOG_ERROR("{}", e.what());
  }
  ctx_.reset();
  used_.reset();
  stop_.reset();
}

void FsDevice::relay() {
  pollfd fds[3] = {
      {stop_.get(), POLLIN, 0}, {used_.get(), POLLIN, 0}, {server_.events_fd(), POLLIN, 0}};
  for (;;) {
    if (::poll(fds, 3, -1) < 0) {
      if (errno == EINTR) continue;
      SPDLOG_ERROR("virtio-fs: poll: {}", strerror(errno));
      return;
    }
    if (fds[0].revents) return;
    if (fds[1].revents) {
      drain_eventfd(used_.get());
      ctx_->interrupt.signal_used();
    }
    if (fds[2].revents) {
      wire::Failure f{};
      ssize_t n = ::recv(server_.events_fd(), &f, sizeof f, MSG_DONTWAIT);
      if (n == static_cast<ssize_t>(sizeof f)) {
        f.why[sizeof f.why - 1] = '\0';
        ctx_->needs_reset(f.why);
      } else if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
        // Nothing serves the queues any more; the guest sees its requests
        // hang until it resets the device, which then fails to activate.
        std::string why = fmt::format("the virtio-fs file server process ended ({})",
                                      server_.status(std::chrono::seconds(1)));
        SPDLOG_ERROR("{}", why);
        ctx_->needs_reset(why);
        if (server_lost_) server_lost_(why);
        fds[2].fd = -1;
      }
    }
  }
}

}  // namespace vmrt::vmm::fs
