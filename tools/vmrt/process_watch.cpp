#include "tools/vmrt/process_watch.h"

#include <poll.h>
#include <spdlog/spdlog.h>

#include <stop_token>
#include <thread>

#include "common/event_fd.h"
#include "tools/vmrt/terminal.h"

namespace vmrt::cli {
namespace {

using namespace std::chrono_literals;
namespace v1 = sandbox::v1;

// After the process exits, how long its output may still drain (from
// processes that inherited stdout and outlived it) before its exit is
// reported anyway.
constexpr auto kOutputDrain = 5s;

// WaitProcess blocks: it runs in a thread so that the caller can watch
// signals and the VM meanwhile.
class ProcessWaiter {
 public:
  ProcessWaiter(sandbox::AgentClient& agent, const std::string& id, const std::string& exec_id)
      : done_(make_eventfd("process waiter")) {
    thread_ = std::thread([this, &agent, id, exec_id] {
      v1::WaitProcessRequest req;
      req.set_container_id(id);
      req.set_exec_id(exec_id);
      try {
        response_ = agent.call<v1::WaitProcessResponse>("WaitProcess", req, sandbox::kNoDeadline,
                                                        cancel_.get_token());
        ok_ = true;
      } catch (const sandbox::AgentError& e) {
        error_ = e.what();
      }
      signal_eventfd(done_.get());
    });
  }
  ~ProcessWaiter() {
    cancel_.request_stop();
    thread_.join();
  }
  int fd() const { return done_.get(); }
  bool ok() const { return ok_; }
  const v1::WaitProcessResponse& response() const { return response_; }
  const std::string& error() const { return error_; }

 private:
  UniqueFd done_;
  std::stop_source cancel_;
  v1::WaitProcessResponse response_;
  bool ok_ = false;
  std::string error_;
  std::thread thread_;
};

void forward_signal(sandbox::AgentClient& agent, const std::string& id, const std::string& exec_id,
                    int sig) {
  v1::SignalProcessRequest req;
  req.set_container_id(id);
  req.set_exec_id(exec_id);
  req.set_signal(sig);
  try {
    agent.call<v1::SignalProcessResponse>("SignalProcess", req, 10s);
  } catch (const sandbox::AgentError& e) {
    spdlog::warn("forward signal {} to {}: {}", sig, id, e.what());
  }
}

}  // namespace

void resize_terminal(sandbox::AgentClient& agent, const std::string& id, const std::string& exec_id,
                     int tty) {
  auto ws = window_size(tty);
  if (!ws) return;
  v1::ResizeTerminalRequest req;
  req.set_container_id(id);
  req.set_exec_id(exec_id);
  req.set_rows(ws->ws_row);
  req.set_cols(ws->ws_col);
  try {
    agent.call<v1::ResizeTerminalResponse>("ResizeTerminal", req, 5s);
  } catch (const sandbox::AgentError& e) {
    spdlog::debug("resize the terminal of {}: {}", id, e.what());
  }
}

WatchResult watch_process(sandbox::AgentClient& agent, const std::string& id,
                          const std::string& exec_id, sandbox::RelayFds fds, bool terminal, int tty,
                          SignalReader& signals,
                          const std::function<std::optional<std::string>()>& vm_gone) {
  sandbox::IoRelay relay(agent, id, exec_id, fds);
  if (terminal) resize_terminal(agent, id, exec_id, tty);
  ProcessWaiter waiter(agent, id, exec_id);
  for (;;) {
    pollfd p[2] = {{signals.fd(), POLLIN, 0}, {waiter.fd(), POLLIN, 0}};
    ::poll(p, 2, 200);
    if (p[0].revents) {
      while (int sig = signals.read()) {
        if (sig != SIGWINCH)
          forward_signal(agent, id, exec_id, sig);
        else if (terminal)
          resize_terminal(agent, id, exec_id, tty);
      }
    }
    if (p[1].revents) break;
    if (auto why = vm_gone ? vm_gone() : std::nullopt)
      return {sandbox::kVmLostStatus, "the sandbox VM ended before the process did: " + *why};
  }
  if (!waiter.ok()) {
    // A VMM that died closes its sockets a moment before it can be reaped:
    // give its exit status a moment to show, so the reason names it.
    std::optional<std::string> gone;
    if (vm_gone) {
      gone = vm_gone();
      for (int i = 0; i < 20 && !gone; ++i) {
        std::this_thread::sleep_for(100ms);
        gone = vm_gone();
      }
    }
    if (gone)
      return {sandbox::kVmLostStatus, "the sandbox VM ended before the process did: " + *gone};
    return {sandbox::kVmLostStatus, "lost the process: " + waiter.error()};
  }
  if (!relay.wait_outputs(kOutputDrain))
    spdlog::warn("{}: output still open {} s after exit; the rest is dropped", id,
                 kOutputDrain.count());
  return {waiter.response().status(), ""};
}

}  // namespace vmrt::cli
