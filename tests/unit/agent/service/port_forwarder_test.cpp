// The guest end of port forwarding, over a socketpair standing in for the
// host's vsock connection, to a TCP server on this host's loopback.
#include "agent/service/port_forwarder.h"

#include <arpa/inet.h>
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

// A TCP listener on 127.0.0.1 at a port the kernel picks.
struct LoopbackServer {
  UniqueFd fd;
  uint16_t port = 0;
  LoopbackServer() {
    fd.reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    EXPECT_EQ(::listen(fd.get(), 4), 0);
    socklen_t len = sizeof addr;
    ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&addr), &len);
    port = ntohs(addr.sin_port);
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
