#pragma once
// Accepts connections on the agent's sockets, vsock and Unix alike, and
// hands each one to the ttrpc server: host tests on a Unix socket run the
// very path a VM uses. A vsock connection from anyone but the host is
// closed unserved (peer_check.h).

#include <sys/socket.h>

#include <vector>

#include "agent/service/listen_address.h"
#include "agent/service/peer_check.h"
#include "common/event_loop.h"
#include "common/fd.h"
#include "common/ttrpc/server.h"

namespace vmrt::agent {

// Binds and listens on `address`. Throws vmrt::Error naming it.
UniqueFd listen_on(const ListenAddress& address);
// accept4 with the peer's address, retrying as accept_unix does. Throws
// vmrt::Error.
UniqueFd accept_with_peer(int listen_fd, sockaddr_storage& peer);

class Acceptor {
 public:
  // Takes listening sockets (from listen_on) and starts accepting on them.
  Acceptor(ttrpc::Server& server, std::vector<UniqueFd> listeners);
  Acceptor(const Acceptor&) = delete;
  Acceptor& operator=(const Acceptor&) = delete;
  // Stops accepting and closes the listening sockets; connections already
  // handed over stay with the server.
  ~Acceptor();

 private:
  void accept_on(int listener);
  // Whether a vsock connection from `address` is served; logs a refusal.
  bool admit_vsock_peer(const sockaddr_storage& address);

  ttrpc::Server& server_;
  std::vector<UniqueFd> listeners_;
  RefusalLog refusals_;  // used by loop_'s thread alone
  EventLoop loop_;
};

}  // namespace vmrt::agent
