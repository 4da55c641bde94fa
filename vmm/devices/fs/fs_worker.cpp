#include "vmm/devices/fs/fs_worker.h"

#include <spdlog/spdlog.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "common/event_fd.h"
#include "vmm/devices/fs/fs_wire.h"

namespace vmrt::vmm::fs {

FsWorker::FsWorker(virtio::ActivateContext context, FileServerProcess& server, UniqueFd used,
                   std::function<void(const std::string& why)> server_lost,
                   std::unique_ptr<FsRelay> relay)
    : ctx_(std::move(context)),
      server_(server),
      used_(std::move(used)),
      server_lost_(std::move(server_lost)),
      relay_(std::move(relay)) {
  loop_.add(used_.get(), EPOLLIN, [this](uint32_t) {
    drain_eventfd(used_.get());
    if (relay_)
      relay_->on_server_used();
    else
      ctx_.interrupt.signal_used();
  });
  if (relay_) {
    // What the guest posted before it set DRIVER_OK goes now; the loop is
    // not running yet, so this thread is the only one at the queues.
    relay_->start(ctx_);
    for (size_t q = 0; q < ctx_.queue_events.size(); ++q) {
      int fd = ctx_.queue_events[q];
      loop_.add(fd, EPOLLIN, [this, fd, q](uint32_t) {
        drain_eventfd(fd);
        relay_->on_guest_notify(q);
      });
    }
  }
  loop_.add(server_.events_fd(), EPOLLIN, [this](uint32_t) { on_server_event(); });
  loop_.start();
}

FsWorker::~FsWorker() { loop_.stop_and_join(); }

void FsWorker::on_server_event() {
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
    loop_.remove(server_.events_fd());  // it stays readable (end of file)
  }
}

}  // namespace vmrt::vmm::fs
