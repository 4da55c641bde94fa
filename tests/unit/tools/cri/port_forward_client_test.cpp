// The WebSocket port-forward client against a fake streaming server on
// this host's loopback: the upgrade, the channel framing, the port
// preamble, the error channel and the end of the stream.
#include "tools/cri/port_forward_client.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cctype>
#include <thread>

#include "common/error.h"
#include "common/fd_io.h"

namespace vmrt::cri {
namespace {

std::string server_frame(std::string_view payload) {
  std::string f = {static_cast<char>(0x82), static_cast<char>(payload.size())};
  return f + std::string(payload);
}

// Serves one connection with `script` after the upgrade; returns the URL.
struct FakeStreamingServer {
  UniqueFd listener;
  std::thread thread;
  std::string request;  // the client's HTTP request head
  std::string url;
  explicit FakeStreamingServer(std::function<void(int)> script) {
    listener.reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(listener.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    ::listen(listener.get(), 1);
    socklen_t len = sizeof addr;
    ::getsockname(listener.get(), reinterpret_cast<sockaddr*>(&addr), &len);
    url = "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/portforward/tok";
    thread = std::thread([this, script] {
      UniqueFd c(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
      while (request.find("\r\n\r\n") == std::string::npos) {
        char ch;
        if (::read(c.get(), &ch, 1) != 1) return;
        request.push_back(ch);
      }
      write_all(c.get(), "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n");
      // The port preamble on both channels: 8080 little endian.
      write_all(c.get(), server_frame(std::string("\0\x90\x1f", 3)));
      write_all(c.get(), server_frame(std::string("\1\x90\x1f", 3)));
      script(c.get());
    });
  }
  ~FakeStreamingServer() { thread.join(); }
};

// One client frame's payload, unmasked.
std::string read_client_frame(int fd) {
  uint8_t h[2];
  read_exact(fd, h, 2);
  EXPECT_EQ(h[0], 0x82);
  EXPECT_TRUE(h[1] & 0x80) << "client frames are masked";
  size_t n = h[1] & 0x7f;
  uint8_t mask[4];
  read_exact(fd, mask, 4);
  std::string p(n, '\0');
  read_exact(fd, p.data(), n);
  for (size_t i = 0; i < n; ++i) p[i] = static_cast<char>(p[i] ^ mask[i % 4]);
  return p;
}

TEST(PortForwardClient, UpgradesAndCarriesTheDataChannel) {
  FakeStreamingServer server([](int c) {
    std::string got = read_client_frame(c);
    ASSERT_EQ(got[0], '\0');  // the data channel
    std::string up = got.substr(1);
    for (char& ch : up) ch = static_cast<char>(std::toupper(ch));
    write_all(c, server_frame(std::string(1, '\0') + up));
  });
  PortForwardStream s(server.url, 8080);
  s.write("hello");
  EXPECT_EQ(s.read_at_least(5), "HELLO");
  EXPECT_EQ(s.read(), std::nullopt);  // the server closed: the end
  EXPECT_NE(server.request.find("GET /portforward/tok?port=8080 HTTP/1.1\r\n"), std::string::npos)
      << server.request;
  EXPECT_NE(server.request.find("Upgrade: websocket"), std::string::npos);
  EXPECT_NE(server.request.find("Sec-WebSocket-Protocol: v4.channel.k8s.io"), std::string::npos);
}

TEST(PortForwardClient, TheErrorChannelThrows) {
  FakeStreamingServer server(
      [](int c) { write_all(c, server_frame(std::string("\1") + "connection refused")); });
  PortForwardStream s(server.url, 8080);
  EXPECT_THROW(s.read(), Error);
}

TEST(PortForwardClient, Frames) {
  std::string f = websocket::client_frame(0x2, "abc", 0x01020304);
  ASSERT_EQ(f.size(), 2u + 4 + 3);
  EXPECT_EQ(static_cast<uint8_t>(f[0]), 0x82);
  EXPECT_EQ(static_cast<uint8_t>(f[1]), 0x80 | 3);
  EXPECT_EQ(f[6], 'a' ^ 1);
  std::string big = websocket::client_frame(0x2, std::string(300, 'x'), 0);
  EXPECT_EQ(static_cast<uint8_t>(big[1]), 0x80 | 126);
  EXPECT_EQ(big.size(), 2u + 2 + 4 + 300);
}

TEST(PortForwardClient, Urls) {
  auto u = websocket::parse_url("http://127.0.0.1:34567/portforward/abc");
  EXPECT_EQ(u.host, "127.0.0.1");
  EXPECT_EQ(u.port, 34567);
  EXPECT_EQ(u.path, "/portforward/abc");
  auto v6 = websocket::parse_url("http://[::1]:80");
  EXPECT_EQ(v6.host, "::1");
  EXPECT_EQ(v6.path, "/");
  for (const char* bad : {"https://x/", "http://:80/", "http://h:0/", "http://h:x/"})
    EXPECT_THROW(websocket::parse_url(bad), Error) << bad;
}

}  // namespace
}  // namespace vmrt::cri
