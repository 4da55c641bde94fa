#pragma once
// The guest end of port forwarding (CRI PortForward for a pod in a VM):
// the host's relay, listening in the pod's host network namespace where
// containerd dials, connects here through vsock port 1025 for each
// forwarded connection, and the forwarder connects to 127.0.0.1:<port> in
// the agent's network namespace, which is the pod's (or to [::1]:<port>
// when nothing listens on 127.0.0.1), then splices the two.
// It also tells the host which ports are listened on (PORTS), so that the
// relay knows where to listen.
//
// Security: only the host may connect (the same peer check as the agent's
// ttrpc port), and the only destination is the guest's loopback address:
// the forwarder reaches nothing a process in the pod could not reach
// itself, and gives a tenant no new way to the agent.

#include <cstdint>
#include <string>
#include <vector>

#include "agent/service/peer_check.h"
#include "common/event_loop.h"
#include "common/fd.h"
#include "common/forward/forward_sessions.h"

namespace vmrt::agent {

// Serves one connection to the forwarder: its request line (read within
// a few seconds), then the answer, then for FORWARD the stream until it
// ends or `stop_fd` is readable. Never throws for what the peer sends; an
// unknown request is answered "ERR ...".
void serve_forward_connection(UniqueFd conn, int stop_fd);

// A TCP connection to 127.0.0.1:`port`, or when that is refused to
// [::1]:`port`; invalid with `error` set when neither answers.
UniqueFd connect_loopback(uint16_t port, std::string& error);

class PortForwarder {
 public:
  // Accepts on `listener` (a vsock socket in the guest, a Unix one in host
  // tests) on a thread of its own.
  explicit PortForwarder(UniqueFd listener);
  ~PortForwarder();  // stops accepting and ends every forwarded connection
  PortForwarder(const PortForwarder&) = delete;
  PortForwarder& operator=(const PortForwarder&) = delete;

 private:
  void accept_one();

  UniqueFd listener_;
  RefusalLog refusals_;  // used by loop_'s thread alone
  forward::Sessions sessions_;
  EventLoop loop_;  // last: stopped first
};

}  // namespace vmrt::agent
