#include "vmm/devices/fs/file_server.h"

#include <fcntl.h>
#include <linux/close_range.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "common/error.h"
#include "common/event_fd.h"
#include "common/unix_socket.h"
#include "vmm/devices/fs/activate_command.h"
#include "vmm/devices/fs/fs_wire.h"
#include "vmm/fuse/io_cursor.h"
#include "vmm/fuse/request.h"
#include "vmm/memory/guest_memory.h"
#include "vmm/virtio/queue.h"

namespace vmrt::vmm::fs {

namespace {

template <size_t N>
void copy_text(char (&dst)[N], std::string_view text) {
  size_t n = std::min(text.size(), N - 1);
  std::memcpy(dst, text.data(), n);
  dst[n] = '\0';
}

void send_reply(int sock, bool ok, std::string_view message) {
  wire::Reply r{};
  r.ok = ok ? 1 : 0;
  copy_text(r.message, message);
  if (send_with_fds(sock, &r, sizeof r, {}) < 0) ::_exit(1);  // the VMM is gone
}

std::vector<iovec> to_iovecs(const std::vector<virtio::Segment>& segs) {
  std::vector<iovec> iov;
  iov.reserve(segs.size());
  for (const auto& s : segs) iov.push_back({s.data, s.len});
  return iov;
}

// Every descriptor but the two sockets and the standard streams is closed:
// the fork inherited the VMM's (the KVM device, its sockets, the console).
void close_inherited_fds(int a, int b) {
  int lo = std::min(a, b), hi = std::max(a, b);
  auto close_range = [](int first, int last) {
    if (first <= last) ::syscall(SYS_close_range, first, last, 0);
  };
  close_range(3, lo - 1);
  close_range(lo + 1, hi - 1);
  close_range(hi + 1, ~0u >> 1);
  // The VMM's console input is not the server's to read.
  int null = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (null >= 0) {
    ::dup2(null, STDIN_FILENO);
    if (null != STDIN_FILENO) ::close(null);
  }
}

class Session {
 public:
  Session(int events, const fuse::ServerConfig& config, FsCounters& counters)
      : events_(events),
        config_(config),
        counters_(counters),
        server_(std::make_unique<fuse::Server>(config)) {}
  ~Session() { reset(); }

  void activate(const wire::Command& cmd, size_t bytes, std::vector<UniqueFd>& fds) {
    if (!workers_.empty()) fail("the queues are served already");
    // The same RAM for the VM's whole life: mapped at the first activation.
    if (!mem_ && !fds.empty()) mem_.emplace(GuestMemory::adopt(std::move(fds[0])));
    if (!mem_) fail("no guest RAM came with the first activation");
    std::vector<virtio::Queue> queues = queues_for(cmd, bytes, fds.size(), *mem_);
    // A driver that reset the device starts a new FUSE session (INIT again,
    // inodes from scratch): the shared directory is opened anew, and a share
    // gone by then fails the activation.
    if (!server_) server_ = std::make_unique<fuse::Server>(config_);
    queues_ = std::move(queues);
    queue_mu_.clear();
    for (size_t q = 0; q < queues_.size(); ++q) queue_mu_.push_back(std::make_unique<std::mutex>());
    used_ = std::move(fds[1]);
    queue_events_.clear();
    for (size_t i = wire::kActivateFixedFds; i < fds.size(); ++i)
      queue_events_.push_back(std::move(fds[i]));
    stop_ = make_eventfd("stopping the virtio-fs workers");
    for (size_t q = 0; q < queues_.size(); ++q)
      if (queues_[q].ready()) workers_.emplace_back([this, q] { serve(q); });
  }

  void reset() {
    // Parked SETLKW waits end (EINTR) while the queues they complete on
    // still exist; no reply comes after stop() returns.
    if (server_) server_->stop();
    if (stop_) signal_eventfd(stop_.get());
    for (auto& t : workers_) t.join();
    workers_.clear();
    queues_.clear();
    queue_mu_.clear();
    queue_events_.clear();
    used_.reset();
    stop_.reset();
    server_.reset();
  }

 private:
  void report_failure(const std::string& why) {
    wire::Failure f{};
    copy_text(f.why, why);
    std::lock_guard lock(events_mu_);
    send_with_fds(events_, &f, sizeof f, {});
  }

  // A chain's reply written into its writable segments, given back to the
  // driver. Under the queue's mutex: a parked SETLKW's reply comes from the
  // server's lock thread while the queue's own thread serves the queue.
  // `notify`: tell the driver now rather than at the end of the batch.
  void complete(size_t index, uint16_t head, uint32_t len, bool notify) {
    std::lock_guard lock(*queue_mu_[index]);
    queues_[index].add_used(head, len);
    if (notify) notify_used(index);
  }
  // By its opcode, or as malformed when the server will refuse it unparsed.
  void count_request(std::span<const iovec> in) {
    uint64_t unique;
    if (auto req = fuse::parse_request(in, unique))
      ++counters_.requests[FsCounters::slot(req->header.opcode)];
    else
      ++counters_.malformed;
  }
  void count_reply(const std::byte* reply, size_t len) {
    fuse_out_header h;
    if (len < sizeof h) return;
    std::memcpy(&h, reply, sizeof h);
    if (h.error != 0) ++counters_.errors;
  }
  void count_reply(std::span<const iovec> out, size_t len) {
    fuse_out_header h;
    if (len < sizeof h || !fuse::IoCursor(out).read(&h, sizeof h)) return;
    count_reply(reinterpret_cast<const std::byte*>(&h), sizeof h);
  }

  // The VMM sets the interrupt status and raises the guest's interrupt.
  void notify_used(size_t index) {
    if (queues_[index].needs_interrupt()) signal_eventfd(used_.get());
  }

  void serve(size_t index) {
    virtio::Queue& q = queues_[index];
    std::mutex& mu = *queue_mu_[index];
    int event = queue_events_[index].get();
    pollfd fds[2] = {{stop_.get(), POLLIN, 0}, {event, POLLIN, 0}};
    for (;;) {
      try {
        bool used = false;
        for (;;) {
          std::unique_lock lock(mu);
          auto chain = q.pop_or_rearm();
          if (!chain) {
            if (used) notify_used(index);
            break;
          }
          // The request is served without the mutex: a deferred reply may
          // complete meanwhile.
          lock.unlock();
          auto in = to_iovecs(chain->readable);
          auto out = to_iovecs(chain->writable);
          uint16_t head = chain->head;
          fuse::Server::Deferred later = [this, index, head,
                                          out](std::span<const std::byte> reply) {
            fuse::IoCursor cursor(out);
            bool fits = cursor.write(reply.data(), reply.size());
            count_reply(reply.data(), reply.size());
            complete(index, head, fits ? static_cast<uint32_t>(reply.size()) : 0, true);
          };
          count_request(in);
          size_t n = server_->handle(in, out, later);
          if (n == fuse::Server::kDeferred) continue;
          count_reply(out, n);
          complete(index, head, static_cast<uint32_t>(n), false);
          used = true;
        }
      } catch (const virtio::QueueError& e) {
        report_failure(e.what());
        return;
      }
      if (::poll(fds, 2, -1) < 0 && errno != EINTR) {
        report_failure(fmt::format("poll: {}", strerror(errno)));
        return;
      }
      if (fds[0].revents) return;
      drain_eventfd(event);
    }
  }

  int events_;
  std::mutex events_mu_;
  fuse::ServerConfig config_;
  FsCounters& counters_;
  std::unique_ptr<fuse::Server> server_;
  std::optional<GuestMemory> mem_;
  std::vector<virtio::Queue> queues_;
  std::vector<std::unique_ptr<std::mutex>> queue_mu_;  // one per queue
  std::vector<UniqueFd> queue_events_;
  UniqueFd used_;
  UniqueFd stop_;
  std::vector<std::thread> workers_;
};

}  // namespace

void run_file_server(UniqueFd commands, UniqueFd events, const fuse::ServerConfig& config,
                     const std::function<void()>& confine, FsCounters& counters) {
  close_inherited_fds(commands.get(), events.get());
  // 15 bytes at most: how ps and the VMM's logs tell it from the VMM.
  ::prctl(PR_SET_NAME, "vmrt-fs-server", 0, 0, 0);
  std::unique_ptr<Session> session;
  // Neither another process of its uid (the VMM) nor a core dump gets at
  // its memory or descriptors. (A later change of ids leaves it so, or sets
  // the host's suid_dumpable, which ptrace by that uid does not pass either.)
  ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  try {
    // The C library installs its set-id signal handler (rt_sigaction) when
    // the process starts its first thread: done here, before the filter that
    // forbids it, since this process was forked before the VMM had threads.
    std::thread([] {}).join();
    if (confine) confine();
    session = std::make_unique<Session>(events.get(), config, counters);
  } catch (const std::exception& e) {
    send_reply(commands.get(), false, e.what());
    ::_exit(1);
  }
  send_reply(commands.get(), true, "started");
  for (;;) {
    wire::Command cmd{};
    std::vector<UniqueFd> fds;
    size_t n = 0;
    try {
      n = receive_with_fds(commands.get(), &cmd, sizeof cmd, fds);
    } catch (const std::exception& e) {
      SPDLOG_ERROR("virtio-fs file server: {}", e.what());
      break;
    }
    if (n == 0) break;  // the VMM ended
    try {
      if (n != sizeof cmd) fail("a command of {} bytes", n);
      switch (cmd.op) {
        case wire::Op::Activate:
          session->activate(cmd, n, fds);
          break;
        case wire::Op::Reset:
          session->reset();
          break;
        default:
          fail("unknown command {}", static_cast<uint32_t>(cmd.op));
      }
      send_reply(commands.get(), true, "");
    } catch (const std::exception& e) {
      // A failed activation leaves nothing running: the VMM reports
      // NEEDS_RESET and the driver resets before it tries again.
      session->reset();
      send_reply(commands.get(), false, e.what());
    }
  }
  session.reset();
  spdlog::default_logger_raw()->flush();
  ::_exit(0);
}

}  // namespace vmrt::vmm::fs
