#pragma once
// The control socket: a Unix stream socket the VMM listens on; clients send
// control_protocol request lines and read reply lines. Runs inside the VMM's
// epoll loop; the socket file is removed when the server is destroyed.

#include <map>
#include <string>

#include "common/fd.h"
#include "vmm/machine/machine.h"

namespace vmrt::vmm {

class ControlServer {
 public:
  ControlServer(std::string path, Machine& machine);
  ~ControlServer();
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  int listen_fd() const noexcept { return listener_.get(); }
  // Registers the listener with `epoll_fd`; connections are added as accepted.
  void attach(int epoll_fd);
  // Handles readiness of `fd`; false when `fd` is not one of ours.
  bool handle(int fd);

 private:
  void accept_one();
  void serve(int fd);
  void drop(int fd);

  std::string path_;
  Machine& machine_;
  UniqueFd listener_;
  int epoll_fd_ = -1;
  struct Client {
    UniqueFd fd;
    std::string pending;
  };
  std::map<int, Client> clients_;
};

}  // namespace vmrt::vmm
