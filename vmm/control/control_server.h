#pragma once
// The control socket: a Unix stream socket the VMM listens on; clients send
// control_protocol request lines and read reply lines. Runs inside the VMM's
// event loop; the socket file is removed when its ControlSocket goes.

#include <functional>
#include <map>
#include <string>
#include <utility>

#include "common/event_loop.h"
#include "common/fd.h"
#include "vmm/control/device_counters.h"
#include "vmm/machine/machine.h"

namespace vmrt::vmm {

// The control socket's listening end: bound early, before a jailed VMM
// drops the privileges it takes to create it, and its file removed when it
// goes (after a failed setup too).
class ControlSocket {
 public:
  explicit ControlSocket(std::string path);  // listens, non-blocking
  ControlSocket(ControlSocket&& other) noexcept
      : path_(std::exchange(other.path_, {})), fd_(std::move(other.fd_)) {}
  ControlSocket& operator=(ControlSocket&&) = delete;
  ~ControlSocket();

  int fd() const noexcept { return fd_.get(); }

 private:
  std::string path_;
  UniqueFd fd_;
};

class ControlServer {
 public:
  // `devices`: whose counters the "counters" command reports; `snapshot`:
  // what the "snapshot" command runs (none: refused).
  ControlServer(ControlSocket socket, Machine& machine, DeviceCounterSources devices = {},
                std::function<void()> snapshot = {});
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  int listen_fd() const noexcept { return socket_.fd(); }
  // Registers the listener with `loop`, which outlives the server;
  // connections are added as accepted.
  void attach(EventLoop& loop);

 private:
  void accept_one();
  void serve(int fd);
  void drop(int fd);

  ControlSocket socket_;
  Machine& machine_;
  DeviceCounterSources devices_;
  std::function<void()> snapshot_;
  EventLoop* loop_ = nullptr;
  struct Client {
    UniqueFd fd;
    std::string pending;
  };
  std::map<int, Client> clients_;
};

}  // namespace vmrt::vmm
