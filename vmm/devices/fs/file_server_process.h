#pragma once
// The virtio-fs file server runs in a process of its own, forked from the
// VMM before the VMM enters its jail: only that process holds the shared
// directory and the file capabilities a passthrough server needs (acting as
// any guest user on the share), so the VMM proper, which parses everything
// else a guest sends, keeps no capability and sees no host file. The server
// maps guest RAM from the memfd the VMM passes and serves the queues
// directly; the VMM keeps the virtio-mmio registers and raises the interrupt
// when the server signals used entries (wire format: fs_wire.h). In relay
// mode (fs_relay.h) the memfd is a bounce memory instead and the queues
// are the VMM's shadows of the guest's: the server does the same either way.
//
// The process dies with the VMM (parent-death signal, and the closed
// command socket), and the handle reaps it.

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <span>
#include <string>

#include "common/fd.h"
#include "vmm/devices/fs/counters.h"
#include "vmm/devices/fs/fs_wire.h"
#include "vmm/fuse/server.h"

namespace vmrt::vmm::fs {

class FileServerProcess {
 public:
  // Forks the server. In the child, `confine` runs first (its jail, identity
  // and seccomp filter; it may throw), then the server opens the shared
  // directory. Returns once the child has done both; throws vmrt::Error with
  // the child's message when it could not. Call while the caller has no
  // other threads: the child continues from fork without exec. The server
  // counts its requests in `counters`, which must be in memory shared with
  // the child (SharedFsCounters).
  static FileServerProcess spawn(const fuse::ServerConfig& config,
                                 const std::function<void()>& confine, FsCounters& counters);

  FileServerProcess(FileServerProcess&&) noexcept = default;
  FileServerProcess& operator=(FileServerProcess&&) noexcept = delete;
  // Closes the command socket (the server exits on its end), waits briefly,
  // then kills and reaps it.
  ~FileServerProcess();

  // Sends `cmd` with `fds` and waits up to `timeout` for the reply. Throws
  // vmrt::Error when the server is gone or does not answer in time (it is
  // then killed, so that the caller never waits on it again).
  wire::Reply call(const wire::Command& cmd, std::span<const int> fds,
                   std::chrono::milliseconds timeout);

  // Readable when a Failure arrived or the server ended (end of file).
  int events_fd() const noexcept { return events_.get(); }
  pid_t pid() const noexcept { return pid_; }
  // "exited with status 1", "killed by signal 31 (Bad system call)", or
  // "running"; reaps the server once it has ended, waiting up to `wait` for
  // that.
  std::string status(std::chrono::milliseconds wait = std::chrono::milliseconds(0));
  // Kills the server (idempotent).
  void kill() noexcept;

 private:
  FileServerProcess(UniqueFd commands, UniqueFd events, UniqueFd pidfd, pid_t pid)
      : commands_(std::move(commands)),
        events_(std::move(events)),
        pidfd_(std::move(pidfd)),
        pid_(pid) {}

  UniqueFd commands_;
  UniqueFd events_;
  UniqueFd pidfd_;
  pid_t pid_ = -1;
  bool reaped_ = false;
  std::string exit_;  // how it ended, once reaped
};

}  // namespace vmrt::vmm::fs
