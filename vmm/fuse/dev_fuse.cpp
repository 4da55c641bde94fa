#include "vmm/fuse/dev_fuse.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <mutex>
#include <sstream>

#include "common/error.h"
#include "common/event_fd.h"

namespace vmrt::fuse {
namespace {

constexpr const char* kFsType = "fuse.vmrt-fs";

// mountinfo writes space, tab, newline and backslash as octal escapes.
std::string mountinfo_escape(const std::string& path) {
  std::string out;
  for (char c : path) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\\') {
      out += fmt::format("\\{:03o}", static_cast<unsigned char>(c));
    } else {
      out += c;
    }
  }
  return out;
}

void on_wake(int) {}

// The signal only interrupts a blocking read(2): no SA_RESTART.
void install_wakeup_handler() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction sa {};
    sa.sa_handler = on_wake;
    sigemptyset(&sa.sa_mask);
    sigaction(DevFuseMount::kWakeSignal, &sa, nullptr);
  });
}

}  // namespace

std::string find_mount(const std::filesystem::path& mountpoint, const std::string& fstype) {
  std::ifstream in("/proc/self/mountinfo");
  std::string want = mountinfo_escape(mountpoint.string()), line, found;
  while (std::getline(in, line)) {
    // id parent major:minor root mountpoint options [optional...] - fstype source super
    std::istringstream fields(line);
    std::string id, parent, dev, root, point, word;
    fields >> id >> parent >> dev >> root >> point;
    while (fields >> word && word != "-") {
    }
    std::string type;
    fields >> type;
    if (point == want && type == fstype) found = dev;
  }
  return found;
}

DevFuseMount::DevFuseMount(Server& server, DevFuseOptions options)
    : server_(server),
      options_(std::move(options)),
      // A parked SETLKW's reply, from the server's lock thread: replies to
      // /dev/fuse may come in any order.
      deferred_reply_(
          [this](std::span<const std::byte> reply) { send_reply(reply.data(), reply.size()); }) {
  options_.mountpoint = std::filesystem::canonical(options_.mountpoint);
  int fd = ::open("/dev/fuse", O_RDWR | O_CLOEXEC);
  if (fd < 0) throw_errno("cannot open /dev/fuse");
  fuse_fd_.reset(fd);
  install_wakeup_handler();
  ended_ = make_eventfd("the end of the FUSE session");

  struct stat st;
  if (stat(server_.config().shared_dir.c_str(), &st) != 0)
    throw_errno("stat " + server_.config().shared_dir.string());
  std::string opts = fmt::format("fd={},rootmode={:o},user_id={},group_id={},default_permissions",
                                 fd, st.st_mode & S_IFMT, getuid(), getgid());
  if (options_.allow_other) opts += ",allow_other";
  if (mount(options_.fs_name.c_str(), options_.mountpoint.c_str(), kFsType, MS_NOSUID | MS_NODEV,
            opts.c_str()) != 0)
    throw_errno("cannot mount FUSE on " + options_.mountpoint.string());
  dev_ = find_mount(options_.mountpoint, kFsType);
  SPDLOG_INFO("fuse: mounted {} on {} ({}), {} threads", server_.config().shared_dir.string(),
              options_.mountpoint.string(), dev_, options_.threads);
  unsigned n = std::max(1u, options_.threads);
  running_ = n;
  try {
    for (unsigned i = 0; i < n; ++i) {
      auto w = std::make_unique<Worker>();
      Worker& self = *w;
      workers_.push_back(std::move(w));
      self.thread = std::thread([this, &self] { worker(self); });
    }
  } catch (...) {
    for (auto& w : workers_) {
      if (!w->thread.joinable()) {
        w->done = true;
        --running_;
      }
    }
    stop();
    throw;
  }
}

DevFuseMount::~DevFuseMount() { stop(); }

void DevFuseMount::worker(Worker& self) {
  sigset_t wake;
  sigemptyset(&wake);
  sigaddset(&wake, kWakeSignal);
  pthread_sigmask(SIG_UNBLOCK, &wake, nullptr);
  const size_t size = server_.config().max_write + Server::kMaxHeaderBytes;
  std::vector<char> in(size), out(size);
  while (!stopping_) {
    // A blocking read: the kernel wakes one idle worker per request (a
    // poll() would wake them all).
    ssize_t n = ::read(fuse_fd_.get(), in.data(), in.size());
    if (n < 0) {
      // EINTR: woken by stop(); ENOENT: the request was interrupted before
      // it could be read.
      if (errno == EINTR || errno == EAGAIN || errno == ENOENT) continue;
      if (errno == ENODEV)
        gone_ = true;  // unmounted: the connection is over
      else
        SPDLOG_ERROR("fuse: read /dev/fuse: {}", strerror(errno));
      break;
    }
    iovec iv{in.data(), static_cast<size_t>(n)};
    iovec ov{out.data(), out.size()};
    size_t len = server_.handle({&iv, 1}, {&ov, 1}, deferred_reply_);
    if (len == 0 || len == Server::kDeferred) continue;
    if (!send_reply(out.data(), len)) {
      gone_ = true;
      break;
    }
  }
  self.done = true;
  if (--running_ == 0) {
    signal_eventfd(ended_.get());
  }
}

bool DevFuseMount::send_reply(const void* data, size_t len) {
  if (::write(fuse_fd_.get(), data, len) >= 0) return true;
  // ENOENT: the request was interrupted or aborted meanwhile.
  if (errno == ENODEV) return false;
  if (errno != ENOENT) SPDLOG_ERROR("fuse: write /dev/fuse: {}", strerror(errno));
  return true;
}

void DevFuseMount::unmount_if_ours() {
  // The path is checked against mountinfo first: after an unmount from
  // outside, whatever is mounted there now is not ours to remove.
  if (dev_.empty() || find_mount(options_.mountpoint, kFsType) != dev_) return;
  if (umount2(options_.mountpoint.c_str(), MNT_DETACH | UMOUNT_NOFOLLOW) != 0)
    SPDLOG_WARN("fuse: unmount {}: {}", options_.mountpoint.string(), strerror(errno));
}

void DevFuseMount::stop() {
  if (stopped_) return;
  stopped_ = true;
  if (!gone_) unmount_if_ours();
  server_.stop();
  stopping_ = true;
  // A worker may be about to enter read() when the signal comes, so signal
  // until each has ended.
  for (auto& w : workers_) {
    if (!w->thread.joinable()) continue;
    while (!w->done) {
      pthread_kill(w->thread.native_handle(), kWakeSignal);
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    w->thread.join();
  }
  workers_.clear();
  // Closing the device ends the connection: a process still inside the
  // detached tree gets ENOTCONN instead of waiting for a reply.
  fuse_fd_.reset();
  SPDLOG_INFO("fuse: {} stopped", options_.mountpoint.string());
}

}  // namespace vmrt::fuse
