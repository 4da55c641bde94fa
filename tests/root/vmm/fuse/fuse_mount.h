#pragma once
// A vmrt-fs-mount process serving one directory on a mount point, for tests
// through the host kernel's FUSE client. The destructor stops it (SIGTERM)
// if the test has not, and a leftover mount is detached.

#include <sys/mount.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>

#include "common/error.h"
#include "common/process.h"
#include "vmm/fuse/dev_fuse.h"

namespace vmrt::fuse::test {

inline bool mounted(const std::filesystem::path& mnt) {
  return !find_mount(std::filesystem::weakly_canonical(mnt), "fuse.vmrt-fs").empty();
}

class FuseMount {
 public:
  // `threads`: request threads (1 is a virtio-fs device's one request queue).
  FuseMount(const std::filesystem::path& shared, const std::filesystem::path& mnt,
            const std::string& cache = "auto", unsigned threads = 4)
      : mnt_(mnt),
        proc_(Subprocess::spawn({VMRT_FS_MOUNT, "--cache", cache, "--threads",
                                 std::to_string(threads), "--log-level", "warn", shared.string(),
                                 mnt.string()})) {
    for (int i = 0; i < 500 && !mounted(mnt_); ++i) {
      if (proc_.wait_for(std::chrono::milliseconds(10))) fail("vmrt-fs-mount exited early");
    }
    if (!mounted(mnt_)) fail("vmrt-fs-mount did not mount {}", mnt_.string());
  }
  ~FuseMount() {
    if (!stopped_) stop();
    if (mounted(mnt_)) umount2(mnt_.c_str(), MNT_DETACH);
  }
  // SIGTERM and wait; the exit status.
  ExitStatus stop() {
    stopped_ = true;
    proc_.kill(SIGTERM);
    auto st = proc_.wait_for(std::chrono::seconds(10));
    if (!st) {
      proc_.kill(SIGKILL);
      return proc_.wait();
    }
    return *st;
  }
  // Waits for the process to end by itself (after an unmount from outside).
  std::optional<ExitStatus> wait_exit(std::chrono::milliseconds timeout) {
    stopped_ = true;
    return proc_.wait_for(timeout);
  }
  pid_t pid() const { return proc_.pid(); }

 private:
  std::filesystem::path mnt_;
  Subprocess proc_;
  bool stopped_ = false;
};

}  // namespace vmrt::fuse::test
