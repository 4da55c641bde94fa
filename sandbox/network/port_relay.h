#pragma once
// The host end of port forwarding for a pod in a VM. containerd serves CRI
// PortForward by dialing localhost:<port> inside the pod's network
// namespace; with the pod in a VM nothing listens there, the server being
// in the guest. The relay listens, on 127.0.0.1 and ::1 of that namespace
// only, on the ports the guest's pod listens on (asked of the agent's
// forwarder every few seconds), and carries each connection to the guest's
// 127.0.0.1:<port> through a vsock connection to the forwarder
// (agent/service/port_forwarder.h).
//
// Why listeners that follow the guest, not a netfilter REDIRECT of every
// loopback port to one relay socket: it needs no nat tables, modules or
// tools on the host, and never touches the pod namespace's packet path.
// The cost is that a port opened in the guest is forwarded after the next
// poll, not at once (containerd's dial before that is refused, as it would
// be before the server listened).
//
// Loopback only: the pod's interface (its veth, wired to the VM's NIC) is
// never listened on, so nothing becomes reachable from the network that
// was not already.

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "common/fd.h"
#include "common/forward/forward_sessions.h"

namespace vmrt::sandbox::network {

class PortRelay {
 public:
  // A new connection to the guest's forwarder (throws vmrt::Error).
  using ConnectGuest = std::function<UniqueFd()>;

  // Listens in the namespace at `netns` (empty: the caller's own, for
  // tests) and asks the guest for its ports every `interval`, on a thread
  // of its own; the first time at once.
  PortRelay(std::filesystem::path netns, ConnectGuest connect,
            std::chrono::milliseconds interval = std::chrono::seconds(2));
  ~PortRelay();  // stops listening and ends every relayed connection
  PortRelay(const PortRelay&) = delete;
  PortRelay& operator=(const PortRelay&) = delete;

  // The ports listened on now.
  std::set<uint16_t> ports() const;
  // Asks the guest now rather than at the next interval and waits until
  // the listeners follow its answer.
  void refresh_now();

 private:
  struct Listener {
    uint16_t port;
    UniqueFd fd;
  };
  void run();
  // Asks the guest; listens on what is new, closes what is gone. A guest
  // that does not answer (an agent without a forwarder) changes nothing.
  void refresh();
  void open_listeners(const std::set<uint16_t>& ports);
  void accept_on(const Listener& l);
  void relay(UniqueFd client, uint16_t port, int stop_fd);

  const std::filesystem::path netns_;
  const ConnectGuest connect_;
  const std::chrono::milliseconds interval_;
  UniqueFd stop_, wake_;  // eventfds: end run(); refresh at once
  mutable std::mutex mu_;
  std::condition_variable refreshed_;
  uint64_t requested_ = 0, done_ = 0;  // refresh_now's requests, and the last one served
  std::vector<Listener> listeners_;    // run()'s thread alone changes it, under mu_
  std::set<uint16_t> failed_;          // ports whose listen failed, said once
  forward::Sessions sessions_;
  std::thread thread_;  // last: started once the rest exists
};

}  // namespace vmrt::sandbox::network
