#include "sandbox/process_watch.h"

#include <spdlog/spdlog.h>

#include <condition_variable>
#include <mutex>

#include "common/event_fd.h"

namespace vmrt::sandbox {
namespace {

using namespace std::chrono_literals;

// After the process exits, how long its output may still drain (from
// processes that inherited stdout and outlived it) before its exit is
// reported anyway.
constexpr auto kOutputDrain = 5s;

// A VMM that died closes its sockets a moment before it can be reaped: how
// long a failed wait gives its exit status to show, so the reason names it.
constexpr int kVmEndPolls = 20;
constexpr auto kVmEndPoll = 100ms;

// How often a running process's VM is looked at.
constexpr auto kVmPoll = 200ms;

}  // namespace

ProcessWatch::ProcessWatch(AgentClient& agent, ProcessRef process, RelayFds fds, VmGone vm_gone,
                           OnEnd on_end)
    : agent_(agent),
      process_(std::move(process)),
      vm_gone_(std::move(vm_gone)),
      on_end_(std::move(on_end)),
      done_(make_eventfd("process watch")),
      relay_(std::make_unique<IoRelay>(agent, process_.container_id, process_.exec_id, fds)) {
  // The poller first: run() stops it.
  if (vm_gone_) vm_poll_ = std::jthread([this](std::stop_token stop) { poll_vm(stop); });
  thread_ = std::jthread([this] { run(); });
}

ProcessWatch::~ProcessWatch() {
  closing_ = true;
  wait_call_.request_stop();
  if (thread_.joinable()) thread_.join();
  vm_poll_ = {};  // stops and joins
  relay_.reset();
}

void ProcessWatch::poll_vm(std::stop_token stop) {
  std::mutex mu;
  std::condition_variable_any wake;
  std::unique_lock lock(mu);
  while (!wake.wait_for(lock, stop, kVmPoll, [] { return false; })) {
    if (stop.stop_requested()) return;
    if (vm_gone_nothrow()) {
      wait_call_.request_stop();  // run() names the cause
      return;
    }
  }
}

// A failure to look is logged and counts as "still running": the wait's
// own failure then names the loss.
std::optional<std::string> ProcessWatch::vm_gone_nothrow() noexcept {
  try {
    return vm_gone_();
  } catch (const std::exception& e) {
    spdlog::warn("{}: is the VM gone? {}", process_.container_id, e.what());
    return std::nullopt;
  }
}

std::optional<std::string> ProcessWatch::vm_end() {
  if (!vm_gone_) return std::nullopt;
  for (int i = 0;; ++i) {
    if (auto why = vm_gone_nothrow()) return why;
    if (i == kVmEndPolls || closing_) return std::nullopt;
    std::this_thread::sleep_for(kVmEndPoll);
  }
}

void ProcessWatch::run() {
  v1::WaitProcessRequest req;
  req.set_container_id(process_.container_id);
  req.set_exec_id(process_.exec_id);
  try {
    auto resp = agent_.wait_process(req, {kNoDeadline, wait_call_.get_token()});
    end_.status = resp.status();
    end_.outputs_closed = relay_->wait_outputs(kOutputDrain);
    if (!end_.outputs_closed)
      spdlog::warn("{} {}: output still open {} s after exit; the rest is dropped",
                   process_.container_id, process_.exec_id, kOutputDrain.count());
  } catch (const std::exception& e) {
    if (closing_) return;  // the watch is going away
    if (auto why = vm_end())
      end_.error = "the sandbox VM ended before the process did: " + *why;
    else
      end_.error = std::string("lost the process: ") + e.what();
    end_.status = kVmLostStatus;
  }
  vm_poll_.request_stop();
  if (closing_) return;  // the watch is going away: nobody to tell
  try {
    if (on_end_) on_end_(end_);
  } catch (const std::exception& e) {
    spdlog::error("{} {}: after its end: {}", process_.container_id, process_.exec_id, e.what());
  }
  signal_eventfd(done_.get());
}

}  // namespace vmrt::sandbox
