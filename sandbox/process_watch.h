#pragma once
// Following one guest process to its end from the host: its stdio relayed
// to host descriptors while WaitProcess runs on a thread of its own, the
// output drained after it exits, and a lost process told apart from a VM
// that ended under it. The one protocol behind the CLI's keeper and `vmrt
// exec` and the shim's tasks.

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <thread>

#include "common/fd.h"
#include "sandbox/agent_client.h"
#include "sandbox/io_relay.h"

namespace vmrt::sandbox {

// One process of a container: its init (exec_id empty) or an exec'ed one.
struct ProcessRef {
  std::string container_id;
  std::string exec_id;
};

// The exit status of a process whose VM ended before it did, as the shim
// and the CLI report it (runc reports 255 for a container whose state was
// lost).
inline constexpr int kVmLostStatus = 255;

struct ProcessEnd {
  int status = kVmLostStatus;   // shell convention: code, or 128 + signal
  std::string error;            // why the process was lost, when it was
  bool outputs_closed = false;  // every writer of stdout and stderr is done
};

// Why the VM has ended ("vmrt-vmm killed by signal 9 ..."), or nothing while
// it runs. Polled a few times a second while the process runs: a VM that
// ends while its connection stays open ends the wait too.
using VmGone = std::function<std::optional<std::string>()>;

class ProcessWatch {
 public:
  using OnEnd = std::function<void(const ProcessEnd&)>;
  // Starts relaying `fds` (which must outlive the watch) and waiting. When
  // the process ends, `on_end` runs on the watch's thread, then done_fd()
  // becomes readable. `vm_gone` may be empty (the caller does not own the
  // VM).
  ProcessWatch(AgentClient& agent, ProcessRef process, RelayFds fds, VmGone vm_gone,
               OnEnd on_end = {});
  // Cancels a wait still running and joins; on_end does not start after
  // this began.
  ~ProcessWatch();
  ProcessWatch(const ProcessWatch&) = delete;
  ProcessWatch& operator=(const ProcessWatch&) = delete;

  // An eventfd, readable once the process has ended and on_end returned.
  int done_fd() const noexcept { return done_.get(); }
  // The end, once done_fd() is readable.
  const ProcessEnd& end() const noexcept { return end_; }

 private:
  void run();
  void poll_vm(std::stop_token stop);
  std::optional<std::string> vm_gone_nothrow() noexcept;
  // After a failed wait: the VM's end, given a moment to show.
  std::optional<std::string> vm_end();

  AgentClient& agent_;
  const ProcessRef process_;
  const VmGone vm_gone_;
  const OnEnd on_end_;
  UniqueFd done_;
  std::unique_ptr<IoRelay> relay_;
  ProcessEnd end_;
  std::stop_source wait_call_;  // ends the WaitProcess call
  std::atomic<bool> closing_{false};
  std::jthread vm_poll_;
  std::jthread thread_;  // last: joined before the rest goes
};

}  // namespace vmrt::sandbox
