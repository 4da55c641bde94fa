#pragma once
// Following one guest process to its end from a host process
// (sandbox::ProcessWatch), with the signals the host process receives
// passed on to it (SIGWINCH as a terminal resize), its exit status returned. The
// keeper does this for a container's init, `vmrt exec` for an exec'ed
// process.

#include <functional>
#include <optional>
#include <string>

#include "sandbox/agent_client.h"
#include "sandbox/io_relay.h"
#include "sandbox/process_watch.h"
#include "sandbox/sandbox.h"
#include "tools/vmrt/forwarded_signals.h"

namespace vmrt::cli {

// `vm_gone` names the VM's end when the process is lost; empty when the
// caller does not own the VM (exec).
// `tty` is the terminal whose window size the process gets (terminal only).
sandbox::ProcessEnd watch_process(sandbox::AgentClient& agent, const std::string& id,
                                  const std::string& exec_id, sandbox::RelayFds fds, bool terminal,
                                  int tty, SignalReader& signals, const sandbox::VmGone& vm_gone);

// Resizes the process's terminal to `tty`'s window size (if it has one).
void resize_terminal(sandbox::AgentClient& agent, const std::string& id, const std::string& exec_id,
                     int tty);

}  // namespace vmrt::cli
