#include "tools/vmrt/process_watch.h"

#include <spdlog/spdlog.h>
#include <sys/epoll.h>

#include "common/event_loop.h"
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

sandbox::ProcessEnd watch_process(sandbox::AgentClient& agent, const std::string& id,
                                  const std::string& exec_id, sandbox::RelayFds fds, bool terminal,
                                  int tty, SignalReader& signals, const sandbox::VmGone& vm_gone) {
  if (terminal) resize_terminal(agent, id, exec_id, tty);
  sandbox::ProcessWatch watch(agent, {id, exec_id}, fds, vm_gone);
  EventLoop loop("process watch");
  loop.add(signals.fd(), EPOLLIN, [&](uint32_t) {
    while (int sig = signals.read()) {
      if (sig != SIGWINCH)
        forward_signal(agent, {id, exec_id}, sig);
      else if (terminal)
        resize_terminal(agent, id, exec_id, tty);
    }
  });
  loop.add(watch.done_fd(), EPOLLIN, [&](uint32_t) { loop.stop(); });
  loop.run();
  return watch.end();
}

}  // namespace vmrt::cli
