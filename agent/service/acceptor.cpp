#include "agent/service/acceptor.h"

#include <linux/vm_sockets.h>
#include <spdlog/spdlog.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <thread>

#include "common/error.h"
#include "common/unix_socket.h"

namespace vmrt::agent {
namespace {

UniqueFd listen_vsock(uint32_t port) {
  UniqueFd fd(check_sys(::socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0), "socket(AF_VSOCK)"));
  sockaddr_vm addr{};
  addr.svm_family = AF_VSOCK;
  addr.svm_cid = VMADDR_CID_ANY;
  addr.svm_port = port;
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) < 0)
    throw_errno(fmt::format("bind vsock port {}", port));
  check_sys(::listen(fd.get(), 64), fmt::format("listen on vsock port {}", port));
  return fd;
}

}  // namespace

UniqueFd accept_with_peer(int listen_fd, sockaddr_storage& peer) {
  for (;;) {
    socklen_t len = sizeof peer;
    int fd = ::accept4(listen_fd, reinterpret_cast<sockaddr*>(&peer), &len, SOCK_CLOEXEC);
    if (fd >= 0) return UniqueFd(fd);
    if (errno != EINTR && errno != ECONNABORTED && errno != EPROTO) throw_errno("accept");
  }
}

UniqueFd listen_on(const ListenAddress& address) {
  return address.kind == ListenAddress::Kind::Vsock ? listen_vsock(address.port)
                                                    : listen_unix(address.path);
}

Acceptor::Acceptor(ttrpc::Server& server, std::vector<UniqueFd> listeners)
    : server_(server), listeners_(std::move(listeners)), loop_("acceptor") {
  for (const UniqueFd& l : listeners_)
    loop_.add(l.get(), EPOLLIN, [this, fd = l.get()](uint32_t) { accept_on(fd); });
  loop_.start();
}

Acceptor::~Acceptor() { loop_.stop_and_join(); }

void Acceptor::accept_on(int listener) {
  try {
    sockaddr_storage peer{};
    UniqueFd conn = accept_with_peer(listener, peer);
    if (peer.ss_family == AF_VSOCK && !admit_vsock_peer(peer)) return;  // conn closes
    spdlog::debug("connection accepted (fd {})", conn.get());
    server_.serve_connection(std::move(conn));
  } catch (const Error& e) {
    // One failed connection does not end the service; a pause keeps a
    // persistent failure (out of descriptors) from spinning.
    spdlog::warn("acceptor: {}", e.what());
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

bool Acceptor::admit_vsock_peer(const sockaddr_storage& address) {
  sockaddr_vm peer;
  std::memcpy(&peer, &address, sizeof peer);
  if (is_host_peer(peer)) return true;
  if (auto line = refusals_.refused(peer, RefusalLog::Clock::now())) spdlog::warn("{}", *line);
  return false;
}

}  // namespace vmrt::agent
