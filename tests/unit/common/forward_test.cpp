// Port forwarding's shared pieces: the guest's listening ports read from
// /proc/net/tcp, the relay protocol's lines, the byte splice between two
// sockets and the bounded session set.
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>

#include <atomic>
#include <string>
#include <thread>

#include "common/event_fd.h"
#include "common/fd.h"
#include "common/fd_io.h"
#include "common/forward/forward_protocol.h"
#include "common/forward/forward_sessions.h"
#include "common/forward/listening_ports.h"
#include "common/forward/stream_splice.h"

namespace vmrt::forward {
namespace {

constexpr const char* kTcp =
    "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout "
    "inode\n"
    "   0: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 "
    "1\n"
    "   1: 0100007F:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2 "
    "1\n"
    "   2: 0500580A:01BB 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 3 "
    "1\n"
    "   3: 0100007F:1F90 0100007F:A000 01 00000000:00000000 00:00000000 00000000     0        0 4 "
    "1\n"
    "   4: 0100007F:zz";
constexpr const char* kTcp6 =
    "  sl  local_address                         remote_address                        st\n"
    "   0: 00000000000000000000000001000000:0016 00000000000000000000000000000000:0000 0A\n"
    "   1: 0000000000000000FFFF00000100007F:0017 00000000000000000000000000000000:0000 0A\n"
    "   2: 000080FE00000000FF00000001000000:0018 00000000000000000000000000000000:0000 0A\n"
    "   3: 00000000000000000000000000000000:0019 00000000000000000000000000000000:0000 0A\n";

TEST(ListeningPorts, WildcardAndLoopbackListenersOnly) {
  // 8080 on 0.0.0.0 and 80 on 127.0.0.1 count; 443 on the pod's IP alone,
  // a connected socket and a cut-off line do not.
  EXPECT_EQ(parse_listening_ports(kTcp), (std::set<uint16_t>{80, 8080}));
  // ::1, ::ffff:127.0.0.1 and :: count; a link-local address does not.
  EXPECT_EQ(parse_listening_ports(kTcp6), (std::set<uint16_t>{22, 23, 25}));
  EXPECT_TRUE(parse_listening_ports("").empty());
  EXPECT_TRUE(parse_listening_ports("garbage\n\n 0: x:y 0A\n").empty());
}

TEST(ForwardProtocol, Requests) {
  auto ports = parse_request("PORTS");
  ASSERT_TRUE(ports);
  EXPECT_EQ(ports->kind, Request::Kind::Ports);
  auto fwd = parse_request("FORWARD 8080");
  ASSERT_TRUE(fwd);
  EXPECT_EQ(fwd->kind, Request::Kind::Forward);
  EXPECT_EQ(fwd->port, 8080);
  EXPECT_EQ(forward_line(8080), "FORWARD 8080\n");
  for (const char* bad : {"", "PORTS ", "FORWARD", "FORWARD 0", "FORWARD 65536", "FORWARD 080",
                          "FORWARD +80", "FORWARD 80 ", "forward 80", "FORWARD 1234567"})
    EXPECT_FALSE(parse_request(bad)) << bad;
}

TEST(ForwardProtocol, PortsLineRoundTripsAndIsBounded) {
  EXPECT_EQ(ports_line({}), "PORTS\n");
  EXPECT_EQ(ports_line({80, 8080}), "PORTS 80 8080\n");
  EXPECT_EQ(parse_ports("PORTS 80 8080"), (std::set<uint16_t>{80, 8080}));
  EXPECT_EQ(parse_ports("PORTS"), std::set<uint16_t>{});
  for (const char* bad : {"PORTS 8080 80", "PORTS 80 80", "PORTS  80", "PORTS 80 ", "PORTS 0",
                          "PORTS 70000", "PORT 80", "PORTS x"})
    EXPECT_FALSE(parse_ports(bad)) << bad;
  std::set<uint16_t> many;
  for (uint16_t p = 1; p <= 1000; ++p) many.insert(p);
  std::string line = ports_line(many);
  EXPECT_LE(line.size(), kMaxLine);
  line.pop_back();
  auto parsed = parse_ports(line);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->size(), kMaxPorts);
  EXPECT_FALSE(parse_ports(line + " 1001"));
}

struct Pair {
  UniqueFd a, b;
  Pair() {
    int fds[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    a.reset(fds[0]);
    b.reset(fds[1]);
  }
};

std::string read_to_end(int fd) {
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) return out;
    out.append(buf, static_cast<size_t>(n));
  }
}

// client <-> [left.b  splice  right.a] <-> server
TEST(StreamSplice, CarriesBothWaysAndPassesHalfCloses) {
  Pair left, right;
  SpliceEnd end{};
  std::thread relay([&] { end = splice_streams(left.b.get(), right.a.get(), -1, 16); });
  // More than the 16-byte buffers hold, in both directions at once.
  std::string request(100000, 'q'), response(70000, 'r');
  std::thread client([&] {
    write_all(left.a.get(), request);
    ::shutdown(left.a.get(), SHUT_WR);
  });
  std::string got_request, got_response;
  std::thread server([&] {
    got_request = read_to_end(right.b.get());  // ends: the client's half close came through
    write_all(right.b.get(), response);
    ::shutdown(right.b.get(), SHUT_WR);
  });
  got_response = read_to_end(left.a.get());
  client.join();
  server.join();
  relay.join();
  EXPECT_EQ(got_request, request);
  EXPECT_EQ(got_response, response);
  EXPECT_EQ(end, SpliceEnd::Done);
}

TEST(StreamSplice, EndsOnStopAndOnAVanishedPeer) {
  {
    Pair left, right;
    UniqueFd stop = make_eventfd("test");
    SpliceEnd end{};
    std::thread relay([&] { end = splice_streams(left.b.get(), right.a.get(), stop.get()); });
    signal_eventfd(stop.get());
    relay.join();
    EXPECT_EQ(end, SpliceEnd::Stopped);
  }
  {
    // The server is gone while the client still sends: an error, not a hang.
    Pair left, right;
    right.b.reset();
    SpliceEnd end{};
    std::thread relay([&] { end = splice_streams(left.b.get(), right.a.get(), -1); });
    std::string data(1 << 20, 'x');
    ::send(left.a.get(), data.data(), data.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    relay.join();
    EXPECT_EQ(end, SpliceEnd::Error);
  }
}

TEST(ForwardSessions, BoundedAndStoppedOnDestruction) {
  std::atomic<int> stopped{0};
  {
    Sessions sessions(2);
    auto wait_for_stop = [&](int stop_fd) {
      pollfd p{stop_fd, POLLIN, 0};
      ::poll(&p, 1, -1);
      ++stopped;
    };
    EXPECT_TRUE(sessions.start(wait_for_stop));
    EXPECT_TRUE(sessions.start(wait_for_stop));
    EXPECT_FALSE(sessions.start(wait_for_stop));  // two run: the third is refused
    EXPECT_EQ(sessions.running(), 2u);
  }
  EXPECT_EQ(stopped.load(), 2);
}

TEST(ForwardSessions, AFinishedSessionMakesRoom) {
  Sessions sessions(1);
  std::atomic<bool> done{false};
  EXPECT_TRUE(sessions.start([&](int) { done = true; }));
  while (!done || sessions.running() != 0) std::this_thread::yield();
  EXPECT_TRUE(sessions.start([](int) {}));
}

}  // namespace
}  // namespace vmrt::forward
