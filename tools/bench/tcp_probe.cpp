#include "tools/bench/tcp_probe.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <thread>
#include <vector>

#include "common/error.h"

namespace vmrt::bench {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

UniqueFd connect_to(const std::string& ip, int port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  if (::inet_pton(AF_INET, ip.c_str(), &a.sin_addr) != 1)
    throw Error(fmt::format("'{}' is not an IPv4 address", ip));
  auto deadline = Clock::now() + 60s;
  for (;;) {
    UniqueFd s(check_sys(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), "socket"));
    if (::connect(s.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) return s;
    if (Clock::now() > deadline) throw_errno(fmt::format("connect {}:{}", ip, port));
    std::this_thread::sleep_for(100ms);
  }
}

double rtt_us(const std::string& ip, int port, int n) {
  UniqueFd s = connect_to(ip, port);
  int one = 1;
  ::setsockopt(s.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  std::vector<double> us;
  for (int i = 0; i < n; ++i) {
    char c = 'x';
    auto t0 = Clock::now();
    if (::write(s.get(), &c, 1) != 1 || ::read(s.get(), &c, 1) != 1) throw Error("echo broke off");
    us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
  }
  std::sort(us.begin(), us.end());
  return us[us.size() / 2];
}

double throughput_mibs(const std::string& ip, int port, int mib) {
  UniqueFd s = connect_to(ip, port);
  std::vector<char> buf(1 << 20, 'y');
  auto t0 = Clock::now();
  for (int i = 0; i < mib; ++i)
    for (size_t off = 0; off < buf.size();) {
      ssize_t w = ::write(s.get(), buf.data() + off, buf.size() - off);
      if (w <= 0) throw_errno("write to the sink");
      off += static_cast<size_t>(w);
    }
  ::shutdown(s.get(), SHUT_WR);
  char c;
  while (::read(s.get(), &c, 1) > 0) {
  }
  return mib / std::chrono::duration<double>(Clock::now() - t0).count();
}

}  // namespace vmrt::bench
