#include "tools/vmrt/process_watch.h"

#include <poll.h>
#include <spdlog/spdlog.h>

#include "sandbox/container_calls.h"
#include "tools/vmrt/terminal.h"

namespace vmrt::cli {
namespace {

using namespace std::chrono_literals;

void forward_signal(sandbox::AgentClient& agent, const sandbox::ProcessRef& p, int sig) {
  try {
    sandbox::ContainerCalls(agent).signal(p, sig, false, 10s);
  } catch (const sandbox::AgentError& e) {
    spdlog::warn("forward signal {} to {}: {}", sig, p.container_id, e.what());
  }
}

}  // namespace

void resize_terminal(sandbox::AgentClient& agent, const std::string& id, const std::string& exec_id,
                     int tty) {
  auto ws = window_size(tty);
  if (!ws) return;
  try {
    sandbox::ContainerCalls(agent).resize({id, exec_id}, ws->ws_row, ws->ws_col, 5s);
  } catch (const sandbox::AgentError& e) {
    spdlog::debug("resize the terminal of {}: {}", id, e.what());
  }
}

WatchResult watch_process(sandbox::AgentClient& agent, const std::string& id,
                          const std::string& exec_id, sandbox::RelayFds fds, bool terminal, int tty,
                          SignalReader& signals, const sandbox::VmGone& vm_gone) {
  if (terminal) resize_terminal(agent, id, exec_id, tty);
  sandbox::ProcessWatch watch(agent, {id, exec_id}, fds, vm_gone);
  for (;;) {
    pollfd p[2] = {{signals.fd(), POLLIN, 0}, {watch.done_fd(), POLLIN, 0}};
    if (::poll(p, 2, -1) < 0 && errno != EINTR) throw_errno("poll");
    if (p[0].revents) {
      while (int sig = signals.read()) {
        if (sig != SIGWINCH)
          forward_signal(agent, {id, exec_id}, sig);
        else if (terminal)
          resize_terminal(agent, id, exec_id, tty);
      }
    }
    if (p[1].revents) break;
  }
  return {watch.end().status, watch.end().error};
}

}  // namespace vmrt::cli
