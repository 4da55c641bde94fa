#include "vmm/devices/fs/fs_worker.h"

#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <cstring>

#include "common/event_fd.h"
#include "vmm/devices/fs/fs_wire.h"

namespace vmrt::vmm::fs {

FsWorker::FsWorker(virtio::ActivateContext context, FileServerProcess& server, UniqueFd used,
                   std::function<void(const std::string& why)> server_lost)
    : ctx_(std::move(context)),
      server_(server),
      used_(std::move(used)),
      stop_(make_eventfd("stopping the virtio-fs relay")),
      server_lost_(std::move(server_lost)) {
  thread_ = std::thread([this] { run(); });
}

FsWorker::~FsWorker() {
  signal_eventfd(stop_.get());
  thread_.join();
}

void FsWorker::run() {
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
      ctx_.interrupt.signal_used();
    }
    if (fds[2].revents) {
      wire::Failure f{};
      ssize_t n = ::recv(server_.events_fd(), &f, sizeof f, MSG_DONTWAIT);
      if (n == static_cast<ssize_t>(sizeof f)) {
        f.why[sizeof f.why - 1] = '\0';
        ctx_.needs_reset(f.why);
      } else if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
        // Nothing serves the queues any more; the guest sees its requests
        // hang until it resets the device, which then fails to activate.
        std::string why = fmt::format("the virtio-fs file server process ended ({})",
                                      server_.status(std::chrono::seconds(1)));
        SPDLOG_ERROR("{}", why);
        ctx_.needs_reset(why);
        if (server_lost_) server_lost_(why);
        fds[2].fd = -1;
      }
    }
  }
}

}  // namespace vmrt::vmm::fs
