#include "vmm/control/control_server.h"

#include <spdlog/spdlog.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "common/error.h"
#include "common/fd_io.h"
#include "common/unix_socket.h"
#include "vmm/control/control_protocol.h"

namespace vmrt::vmm {

namespace {
constexpr size_t kMaxRequest = 4096;
constexpr size_t kMaxClients = 16;
}  // namespace

ControlSocket::ControlSocket(std::string path) : fd_(listen_unix(path, 8)) {
  path_ = std::move(path);  // only once there is a file to remove
  // Non-blocking: the epoll loop accepts only when a connection is pending,
  // and one that died in the queue must not stall the VMM.
  set_nonblocking(fd_.get());
}

ControlSocket::~ControlSocket() {
  if (!path_.empty()) unlink(path_.c_str());
}

ControlServer::ControlServer(ControlSocket socket, Machine& machine, DeviceCounterSources devices,
                             std::function<void()> snapshot)
    : socket_(std::move(socket)),
      machine_(machine),
      devices_(std::move(devices)),
      snapshot_(std::move(snapshot)) {}

void ControlServer::attach(EventLoop& loop) {
  loop_ = &loop;
  loop_->add(socket_.fd(), EPOLLIN, [this](uint32_t) { accept_one(); });
}

void ControlServer::accept_one() {
  UniqueFd conn;
  try {
    conn = accept_unix(socket_.fd());
  } catch (const Error&) {
    return;  // nothing pending after all
  }
  if (clients_.size() >= kMaxClients) return;  // closing refuses the extra client
  set_nonblocking(conn.get());
  int fd = conn.get();
  try {
    loop_->add(fd, EPOLLIN, [this, fd](uint32_t) { serve(fd); });
  } catch (const Error&) {
    return;
  }
  clients_[fd] = Client{std::move(conn), {}};
}

void ControlServer::serve(int fd) {
  Client& c = clients_[fd];
  char buf[512];
  ssize_t n = read(fd, buf, sizeof buf);
  if (n <= 0) {
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    drop(fd);
    return;
  }
  c.pending.append(buf, static_cast<size_t>(n));
  size_t nl;
  while ((nl = c.pending.find('\n')) != std::string::npos) {
    std::string reply = handle_control_request(machine_, std::string_view(c.pending).substr(0, nl),
                                               devices_, snapshot_) +
                        "\n";
    c.pending.erase(0, nl + 1);
    // Replies are small; a client that does not read them loses its connection.
    if (send(fd, reply.data(), reply.size(), MSG_NOSIGNAL | MSG_DONTWAIT) !=
        static_cast<ssize_t>(reply.size())) {
      drop(fd);
      return;
    }
  }
  if (c.pending.size() > kMaxRequest) {
    SPDLOG_WARN("control client sent a request longer than {} bytes; disconnecting", kMaxRequest);
    drop(fd);
  }
}

void ControlServer::drop(int fd) {
  loop_->remove(fd);
  clients_.erase(fd);
}

}  // namespace vmrt::vmm
