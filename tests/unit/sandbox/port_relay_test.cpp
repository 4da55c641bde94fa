// The host end of port forwarding against a fake guest forwarder on a Unix
// socket: the relay listens on the loopback ports the guest reports and
// carries each connection through a new forwarder connection.
#include "sandbox/network/port_relay.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <atomic>
#include <mutex>
#include <string>
#include <thread>

#include "common/error.h"
#include "common/fd_io.h"
#include "common/forward/forward_protocol.h"
#include "common/tempdir.h"
#include "common/unix_socket.h"

namespace vmrt::sandbox::network {
namespace {

using namespace std::chrono_literals;

// What the guest says: its PORTS answer (verbatim) and whether FORWARD
// gets "OK" (then the stream is echoed back) or "ERR".
class FakeGuest {
 public:
  FakeGuest() : listener_(listen_unix(dir_.path() / "forward.sock")) {
    thread_ = std::thread([this] { serve(); });
  }
  ~FakeGuest() {
    ::shutdown(listener_.get(), SHUT_RDWR);
    thread_.join();
  }
  UniqueFd connect() { return connect_unix(dir_.path() / "forward.sock"); }
  void answer_ports(std::string line) {
    std::lock_guard lock(mu_);
    ports_line_ = std::move(line);
  }
  std::atomic<bool> accept_forward{true};

 private:
  void serve() {
    for (;;) {
      UniqueFd conn(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
      if (!conn) return;
      auto line = read_line(conn.get(), forward::kMaxLine);
      if (!line) continue;
      if (*line == "PORTS") {
        std::lock_guard lock(mu_);
        write_all(conn.get(), ports_line_);
        continue;
      }
      if (!accept_forward) {
        write_all(conn.get(), "ERR connect 127.0.0.1: refused\n");
        continue;
      }
      write_all(conn.get(), forward::kOkLine);
      // One echo thread per stream; joined at the end of the test's scope.
      echoes_.emplace_back([c = std::move(conn)] {
        char buf[256];
        ssize_t n;
        while ((n = ::read(c.get(), buf, sizeof buf)) > 0) write_all(c.get(), buf, n);
      });
    }
  }

  TempDir dir_;
  UniqueFd listener_;
  std::mutex mu_;
  std::string ports_line_ = "PORTS\n";
  std::vector<std::jthread> echoes_;
  std::thread thread_;
};

// A loopback port free now.
uint16_t free_port() {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&addr), &len);
  return ntohs(addr.sin_port);
}

UniqueFd dial(uint16_t port) {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) return {};
  return fd;
}

struct PortRelayTest : ::testing::Test {
  FakeGuest guest;
  std::optional<PortRelay> relay;
  void start() {
    relay.emplace(
        std::filesystem::path{}, [this] { return guest.connect(); }, 1h);
  }
};

TEST_F(PortRelayTest, ListensOnTheGuestsPortsAndRelays) {
  uint16_t port = free_port();
  guest.answer_ports(forward::ports_line({port}));
  start();
  relay->refresh_now();
  EXPECT_EQ(relay->ports(), std::set<uint16_t>{port});
  UniqueFd client = dial(port);
  ASSERT_TRUE(client);
  write_all(client.get(), "hello\n");
  EXPECT_EQ(read_line(client.get(), 100), "hello");
  ::shutdown(client.get(), SHUT_WR);
  EXPECT_EQ(read_line(client.get(), 100), std::nullopt);  // the guest's end came through
}

TEST_F(PortRelayTest, StopsListeningWhenTheGuestDoes) {
  uint16_t port = free_port();
  guest.answer_ports(forward::ports_line({port}));
  start();
  relay->refresh_now();
  ASSERT_EQ(relay->ports(), std::set<uint16_t>{port});
  guest.answer_ports("PORTS\n");
  relay->refresh_now();
  EXPECT_TRUE(relay->ports().empty());
  EXPECT_FALSE(dial(port));
}

TEST_F(PortRelayTest, AGuestRefusalClosesTheClient) {
  uint16_t port = free_port();
  guest.answer_ports(forward::ports_line({port}));
  guest.accept_forward = false;
  start();
  relay->refresh_now();
  UniqueFd client = dial(port);
  ASSERT_TRUE(client);
  EXPECT_EQ(read_line(client.get(), 100), std::nullopt);
}

TEST_F(PortRelayTest, AMalformedAnswerChangesNothing) {
  uint16_t port = free_port();
  guest.answer_ports(forward::ports_line({port}));
  start();
  relay->refresh_now();
  for (std::string bad : {std::string("PORTS 0\n"), std::string("garbage\n"),
                          std::string(forward::kMaxLine + 10, '9') + "\n", std::string("")}) {
    guest.answer_ports(bad);
    relay->refresh_now();
    EXPECT_EQ(relay->ports(), std::set<uint16_t>{port});
  }
}

TEST(PortRelay, AGuestThatNeverAnswersListensOnNothing) {
  PortRelay relay(
      {}, []() -> UniqueFd { fail("no VM"); }, 1h);
  relay.refresh_now();
  EXPECT_TRUE(relay.ports().empty());
}

}  // namespace
}  // namespace vmrt::sandbox::network
