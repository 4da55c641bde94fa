#include "agent/service/port_forwarder.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <linux/vm_sockets.h>
#include <netinet/in.h>
#include <spdlog/spdlog.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <cstring>
#include <thread>
#include <utility>

#include "agent/service/acceptor.h"
#include "common/error.h"
#include "common/fd_io.h"
#include "common/forward/forward_protocol.h"
#include "common/forward/listening_ports.h"
#include "common/forward/stream_splice.h"

namespace vmrt::agent {
namespace {

// How long the host has to send its request line.
constexpr timeval kRequestTimeout{5, 0};

void set_receive_timeout(int fd, timeval t) {
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &t, sizeof t);
}

// A connection to `addr` (`what` in messages), or the reason there is none
// in `error` and its errno as the result's second.
std::pair<UniqueFd, int> connect_to(const sockaddr_storage& addr, socklen_t len,
                                    const std::string& what, std::string& error) {
  UniqueFd fd(::socket(addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (fd && ::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), len) == 0)
    return {std::move(fd), 0};
  int err = errno;
  error = fmt::format("{} {}: {}", fd ? "connect" : "socket for", what, std::strerror(err));
  return {UniqueFd(), err};
}

}  // namespace

UniqueFd connect_loopback(uint16_t port, std::string& error) {
  sockaddr_storage v4{}, v6{};
  auto* in4 = reinterpret_cast<sockaddr_in*>(&v4);
  in4->sin_family = AF_INET;
  in4->sin_port = htons(port);
  in4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  auto [fd, err] = connect_to(v4, sizeof(sockaddr_in), fmt::format("127.0.0.1:{}", port), error);
  if (fd || err != ECONNREFUSED) return std::move(fd);
  // Nobody on 127.0.0.1: a server of an IPv6-only pod may listen on ::1
  // (or on [::] with IPV6_V6ONLY) alone.
  auto* in6 = reinterpret_cast<sockaddr_in6*>(&v6);
  in6->sin6_family = AF_INET6;
  in6->sin6_port = htons(port);
  in6->sin6_addr = in6addr_loopback;
  std::string v4_error = error;
  UniqueFd fd6 = connect_to(v6, sizeof(sockaddr_in6), fmt::format("[::1]:{}", port), error).first;
  if (!fd6) error = v4_error + "; " + error;
  return fd6;
}

void serve_forward_connection(UniqueFd conn, int stop_fd) {
  std::optional<forward::Request> request;
  try {
    set_receive_timeout(conn.get(), kRequestTimeout);
    auto line = read_line(conn.get(), forward::kMaxLine);
    if (line) request = forward::parse_request(*line);
    if (!request) {
      write_all(conn.get(), "ERR not a forwarder request\n");
      return;
    }
    if (request->kind == forward::Request::Kind::Ports) {
      write_all(conn.get(), forward::ports_line(forward::listening_ports()));
      return;
    }
    std::string error;
    UniqueFd target = connect_loopback(request->port, error);
    if (!target) {
      spdlog::debug("port forward: {}", error);
      write_all(conn.get(), fmt::format("ERR {}\n", error));
      return;
    }
    write_all(conn.get(), forward::kOkLine);
    set_receive_timeout(conn.get(), timeval{0, 0});
    forward::splice_streams(conn.get(), target.get(), stop_fd);
  } catch (const Error& e) {
    // A peer that went away or sent a line too long: only its connection ends.
    spdlog::debug("port forward: {}", e.what());
  }
}

PortForwarder::PortForwarder(UniqueFd listener)
    : listener_(std::move(listener)), loop_("port forwarder") {
  loop_.add(listener_.get(), EPOLLIN, [this](uint32_t) { accept_one(); });
  loop_.start();
}

PortForwarder::~PortForwarder() { loop_.stop_and_join(); }

void PortForwarder::accept_one() {
  try {
    sockaddr_storage peer{};
    UniqueFd conn = accept_with_peer(listener_.get(), peer);
    if (peer.ss_family == AF_VSOCK) {
      sockaddr_vm vm;
      std::memcpy(&vm, &peer, sizeof vm);
      if (!is_host_peer(vm)) {
        if (auto line = refusals_.refused(vm, RefusalLog::Clock::now())) spdlog::warn("{}", *line);
        return;
      }
    }
    auto shared = std::make_shared<UniqueFd>(std::move(conn));
    if (!sessions_.start(
            [shared](int stop_fd) { serve_forward_connection(std::move(*shared), stop_fd); }))
      spdlog::warn("port forward: {} connections at once, one more refused", forward::kMaxSessions);
  } catch (const Error& e) {
    spdlog::warn("port forwarder: {}", e.what());
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

}  // namespace vmrt::agent
