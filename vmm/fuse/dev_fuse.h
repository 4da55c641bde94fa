#pragma once
// The /dev/fuse transport: mounts a FUSE file system on the host whose
// requests a Server answers, so the host kernel's FUSE client drives the
// same server the virtio-fs device does (tests, benchmarks, vmrt-fs-mount).
//
// Worker threads each read one request per blocking read(2) into a buffer
// of max_write + Server::kMaxHeaderBytes, call Server::handle and write the
// reply. stop() interrupts their reads with kWakeSignal (a no-op handler is
// installed for it, without SA_RESTART). The mount is owned: stop() (and the destructor) detaches
// it, ends the workers and closes the connection, so nothing outlives the object.

#include <signal.h>
#include <sys/types.h>

#include <atomic>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/fd.h"
#include "vmm/fuse/server.h"

namespace vmrt::fuse {

struct DevFuseOptions {
  std::filesystem::path mountpoint;
  unsigned threads = 2;
  // Other users may use the mount (the kernel then checks permissions:
  // default_permissions is always set, since the server runs as root).
  bool allow_other = true;
  std::string fs_name = "vmrt-fs";  // the mount's source, as mount(8) lists it
};

class DevFuseMount {
 public:
  static constexpr int kWakeSignal = SIGUSR2;

  // Opens /dev/fuse, mounts and starts the workers. Throws vmrt::Error.
  DevFuseMount(Server& server, DevFuseOptions options);
  ~DevFuseMount();
  DevFuseMount(const DevFuseMount&) = delete;
  DevFuseMount& operator=(const DevFuseMount&) = delete;

  // Readable (an eventfd) once every worker has ended: the file system was
  // unmounted from outside, or stop() was called.
  int ended_fd() const noexcept { return ended_.get(); }
  // True when the file system went away by an unmount from outside.
  bool unmounted_outside() const noexcept { return gone_; }

  // Detaches the mount (when it is still ours), ends the workers and closes
  // the connection. Idempotent.
  void stop();

 private:
  struct Worker {
    std::thread thread;
    std::atomic<bool> done{false};
  };
  void worker(Worker& self);
  void unmount_if_ours();
  // Writes one reply; false when the connection is gone (unmounted).
  bool send_reply(const void* data, size_t len);

  Server& server_;
  DevFuseOptions options_;
  Server::Deferred deferred_reply_;
  UniqueFd fuse_fd_;
  UniqueFd ended_;   // eventfd: counts ended workers
  std::string dev_;  // the mount's "major:minor" in mountinfo
  std::atomic<unsigned> running_{0};
  std::atomic<bool> gone_{false};
  std::atomic<bool> stopping_{false};
  std::vector<std::unique_ptr<Worker>> workers_;
  bool stopped_ = false;
};

// The "major:minor" of the mount at `mountpoint` whose type is `fstype`,
// the last one stacked there; empty when there is none. Reads
// /proc/self/mountinfo.
std::string find_mount(const std::filesystem::path& mountpoint, const std::string& fstype);

}  // namespace vmrt::fuse
