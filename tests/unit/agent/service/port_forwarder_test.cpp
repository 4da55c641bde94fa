// The guest end of port forwarding, over a socketpair standing in for the
// host's vsock connection, to a TCP server on this host's loopback.
#include "agent/service/port_forwarder.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <string>
#include <thread>

#include "common/fd_io.h"
#include "common/forward/forward_protocol.h"
#include "common/tempdir.h"
#include "common/unix_socket.h"

namespace vmrt::agent {
namespace {

// A TCP listener on 127.0.0.1 (or [::1] alone, as an IPv6-only pod's
// server may have) at a port the kernel picks; no fd when this host has no
// such loopback address.
struct LoopbackServer {
  UniqueFd fd;
  uint16_t port = 0;
  explicit LoopbackServer(int family = AF_INET) {
    fd.reset(::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_storage ss{};
    socklen_t len = sizeof(sockaddr_in);
    auto* in4 = reinterpret_cast<sockaddr_in*>(&ss);
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&ss);
    if (family == AF_INET6) {
      in6->sin6_family = AF_INET6;
      in6->sin6_addr = in6addr_loopback;
      len = sizeof(sockaddr_in6);
    } else {
      in4->sin_family = AF_INET;
      in4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    }
    auto* sa = reinterpret_cast<sockaddr*>(&ss);
    if (!fd || ::bind(fd.get(), sa, len) != 0 || ::listen(fd.get(), 4) != 0 ||
        ::getsockname(fd.get(), sa, &len) != 0)
      fd.reset();
    EXPECT_TRUE(fd || family == AF_INET6) << "no listener on 127.0.0.1";
    port = ntohs(family == AF_INET6 ? in6->sin6_port : in4->sin_port);
  }
};

// Sends `request` through serve_forward_connection on a thread; returns
// the host's end.
struct Served {
  UniqueFd host;
  std::thread thread;
  explicit Served(std::string_view request) {
    int fds[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    host.reset(fds[0]);
    thread = std::thread([guest = fds[1]] { serve_forward_connection(UniqueFd(guest), -1); });
    write_all(host.get(), request);
  }
  ~Served() {
    host.reset();
    thread.join();
  }
};

TEST(PortForwarder, ForwardsToTheLoopbackPort) {
  LoopbackServer server;
  Served s(forward::forward_line(server.port));
  EXPECT_EQ(read_line(s.host.get(), 100), "OK");
  UniqueFd accepted(::accept4(server.fd.get(), nullptr, nullptr, SOCK_CLOEXEC));
  ASSERT_TRUE(accepted);
  write_all(s.host.get(), "ping\n");
  EXPECT_EQ(read_line(accepted.get(), 100), "ping");
  write_all(accepted.get(), "pong\n");
  EXPECT_EQ(read_line(s.host.get(), 100), "pong");
  accepted.reset();  // the server closes: the host sees the end
  EXPECT_EQ(read_line(s.host.get(), 100), std::nullopt);
}

TEST(PortForwarder, ReportsListeningPorts) {
  LoopbackServer server;
  Served s(forward::kPortsLine);
  auto line = read_line(s.host.get(), forward::kMaxLine);
  ASSERT_TRUE(line);
  auto ports = forward::parse_ports(*line);
  ASSERT_TRUE(ports) << *line;
  EXPECT_TRUE(ports->count(server.port) || ports->size() == forward::kMaxPorts) << *line;
}

TEST(PortForwarder, RefusesWhatIsNotARequest) {
  LoopbackServer closed;
  uint16_t port = closed.port;
  closed.fd.reset();  // nobody listens there now
  for (std::string request :
       {std::string("CONNECT 80\n"), std::string("FORWARD 0\n"), forward::forward_line(port)}) {
    Served s(request);
    auto line = read_line(s.host.get(), 200);
    ASSERT_TRUE(line) << request;
    EXPECT_TRUE(line->starts_with("ERR ")) << request << ": " << *line;
  }
}

TEST(PortForwarder, FallsBackToTheIpv6Loopback) {
  LoopbackServer server(AF_INET6);
  if (!server.fd) GTEST_SKIP() << "no IPv6 loopback here";
  UniqueFd accepted;
  {
    Served s(forward::forward_line(server.port));
    EXPECT_EQ(read_line(s.host.get(), 100), "OK");
    accepted.reset(::accept4(server.fd.get(), nullptr, nullptr, SOCK_CLOEXEC));
    ASSERT_TRUE(accepted);
    write_all(s.host.get(), "over ::1\n");
    EXPECT_EQ(read_line(accepted.get(), 100), "over ::1");
    accepted.reset();
  }
  // Nobody on either: the answer names both tries.
  uint16_t port = server.port;
  server.fd.reset();
  std::string error;
  EXPECT_FALSE(connect_loopback(port, error));
  EXPECT_NE(error.find(fmt::format("127.0.0.1:{}", port)), std::string::npos) << error;
  EXPECT_NE(error.find(fmt::format("[::1]:{}", port)), std::string::npos) << error;
}

TEST(PortForwarder, AnOverlongLineEndsOnlyItsConnection) {
  Served s(std::string(forward::kMaxLine * 2, 'x'));
  char c;
  EXPECT_LE(::read(s.host.get(), &c, 1), 0);
}

TEST(PortForwarder, AcceptsOnItsListener) {
  TempDir dir;
  auto path = dir.path() / "forward.sock";
  LoopbackServer server;
  PortForwarder forwarder(listen_unix(path));
  UniqueFd host = connect_unix(path);
  write_all(host.get(), forward::forward_line(server.port));
  EXPECT_EQ(read_line(host.get(), 100), "OK");
}

}  // namespace
}  // namespace vmrt::agent
