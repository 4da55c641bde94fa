#include "tools/bench/tcp_probe.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <thread>

#include "common/error.h"

namespace vmrt::bench {
namespace {

// A loopback TCP server on an ephemeral port that hands its one
// connection to `serve`.
class OneConnectionServer {
 public:
  explicit OneConnectionServer(std::function<void(int)> serve) {
    listener_ = UniqueFd(check_sys(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), "socket"));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    check_sys(::bind(listener_.get(), reinterpret_cast<sockaddr*>(&a), sizeof a), "bind");
    check_sys(::listen(listener_.get(), 1), "listen");
    check_sys(::getsockname(listener_.get(), reinterpret_cast<sockaddr*>(&a), &len), "name");
    port_ = ntohs(a.sin_port);
    thread_ = std::jthread([this, serve] {
      UniqueFd c(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
      if (c) serve(c.get());
    });
  }
  int port() const { return port_; }

 private:
  UniqueFd listener_;
  int port_ = 0;
  std::jthread thread_;
};

TEST(TcpProbe, MeasuresTheRoundTripOfAnEchoServer) {
  // Counted before each answer goes out: the probe has seen it by then.
  std::atomic<int> echoed = 0;
  OneConnectionServer server([&](int fd) {
    char c;
    while (::read(fd, &c, 1) == 1 && (++echoed, ::write(fd, &c, 1) == 1)) {
    }
  });
  double us = rtt_us("127.0.0.1", server.port(), 20);
  EXPECT_GT(us, 0);
  EXPECT_EQ(echoed, 20);
}

TEST(TcpProbe, AnEchoServerThatHangsUpIsAnError) {
  OneConnectionServer server([](int fd) {
    char c;
    if (::read(fd, &c, 1) == 1) (void)::write(fd, &c, 1);
  });
  EXPECT_THROW(rtt_us("127.0.0.1", server.port(), 5), Error);
}

TEST(TcpProbe, MeasuresThroughputOnlyOnceTheSinkHasReadItAll) {
  std::atomic<size_t> received = 0;
  OneConnectionServer server([&](int fd) {
    std::vector<char> buf(1 << 16);
    for (ssize_t n; (n = ::read(fd, buf.data(), buf.size())) > 0;) received += n;
  });
  double mibs = throughput_mibs("127.0.0.1", server.port(), 3);
  EXPECT_GT(mibs, 0);
  // The server thread's count is final once the probe saw its end of file.
  EXPECT_EQ(received.load(), 3u << 20);
}

TEST(TcpProbe, RefusesAnAddressThatIsNotIpv4) {
  EXPECT_THROW(rtt_us("::1", 1, 1), Error);
  EXPECT_THROW(throughput_mibs("localhost", 1, 1), Error);
}

}  // namespace
}  // namespace vmrt::bench
