#include "tools/cri/port_forward_client.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>

#include <charconv>
#include <cstring>
#include <random>

#include "common/error.h"
#include "common/fd_io.h"

namespace vmrt::cri {
namespace {

constexpr uint8_t kBinary = 0x2, kClose = 0x8, kPing = 0x9, kContinuation = 0x0;
constexpr size_t kMaxMessage = 16 << 20;  // far above what the server sends at once
constexpr uint8_t kDataChannel = 0, kErrorChannel = 1;

UniqueFd dial(const websocket::Url& url) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  int rc = ::getaddrinfo(url.host.c_str(), std::to_string(url.port).c_str(), &hints, &res);
  if (rc != 0) fail("port forward: resolve {}: {}", url.host, ::gai_strerror(rc));
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> owner(res, ::freeaddrinfo);
  for (addrinfo* a = res; a; a = a->ai_next) {
    UniqueFd fd(::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol));
    if (fd && ::connect(fd.get(), a->ai_addr, a->ai_addrlen) == 0) return fd;
  }
  fail("port forward: cannot connect to {}:{}", url.host, url.port);
}

}  // namespace

namespace websocket {

std::string client_frame(uint8_t opcode, std::string_view payload, uint32_t mask) {
  std::string f;
  f.push_back(static_cast<char>(0x80 | opcode));
  size_t n = payload.size();
  if (n < 126) {
    f.push_back(static_cast<char>(0x80 | n));
  } else if (n <= 0xffff) {
    f.push_back(static_cast<char>(0x80 | 126));
    f.push_back(static_cast<char>(n >> 8));
    f.push_back(static_cast<char>(n & 0xff));
  } else {
    f.push_back(static_cast<char>(0x80 | 127));
    for (int shift = 56; shift >= 0; shift -= 8)
      f.push_back(static_cast<char>((n >> shift) & 0xff));
  }
  char key[4] = {static_cast<char>(mask >> 24), static_cast<char>(mask >> 16),
                 static_cast<char>(mask >> 8), static_cast<char>(mask)};
  f.append(key, 4);
  for (size_t i = 0; i < n; ++i) f.push_back(static_cast<char>(payload[i] ^ key[i % 4]));
  return f;
}

Url parse_url(const std::string& text) {
  constexpr std::string_view kScheme = "http://";
  if (!std::string_view(text).starts_with(kScheme)) fail("port forward: not an http URL: {}", text);
  std::string rest = text.substr(kScheme.size());
  size_t slash = rest.find('/');
  Url url;
  url.path = slash == std::string::npos ? "/" : rest.substr(slash);
  std::string authority = rest.substr(0, slash);
  size_t colon = authority.rfind(':');
  if (colon != std::string::npos && authority.find(']', colon) == std::string::npos) {
    std::string_view port = std::string_view(authority).substr(colon + 1);
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), url.port);
    if (ec != std::errc{} || end != port.data() + port.size() || url.port == 0)
      fail("port forward: bad port in {}", text);
    authority.resize(colon);
  }
  if (authority.size() > 2 && authority.front() == '[' && authority.back() == ']')
    authority = authority.substr(1, authority.size() - 2);
  if (authority.empty()) fail("port forward: no host in {}", text);
  url.host = authority;
  return url;
}

}  // namespace websocket

PortForwardStream::PortForwardStream(const std::string& url_text, uint16_t port,
                                     std::chrono::milliseconds timeout)
    : timeout_(timeout) {
  websocket::Url url = websocket::parse_url(url_text);
  fd_ = dial(url);
  std::string path = url.path + (url.path.find('?') == std::string::npos ? "?" : "&") +
                     "port=" + std::to_string(port);
  write_all(fd_.get(), "GET " + path + " HTTP/1.1\r\n" + "Host: " + url.host + ":" +
                           std::to_string(url.port) + "\r\n" +
                           "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                           "Sec-WebSocket-Key: dm1ydC1wb3J0LWZvcndhcmQ=\r\n"
                           "Sec-WebSocket-Version: 13\r\n"
                           "Sec-WebSocket-Protocol: v4.channel.k8s.io\r\n\r\n");
  // The response head, then frames (perhaps already in what was read).
  std::string head;
  while (head.find("\r\n\r\n") == std::string::npos) {
    if (head.size() > 16384) fail("port forward: an HTTP response head over 16 KiB");
    char c;
    read_exactly(&c, 1);
    head.push_back(c);
  }
  if (head.rfind("HTTP/1.1 101", 0) != 0)
    fail("port forward: the server refused the upgrade: {}", head.substr(0, head.find("\r\n")));
}

void PortForwardStream::read_exactly(void* buf, size_t n) {
  char* out = static_cast<char*>(buf);
  while (n > 0) {
    pollfd p{fd_.get(), POLLIN, 0};
    int r = ::poll(&p, 1, static_cast<int>(timeout_.count()));
    if (r == 0) fail("port forward: nothing from the server within {} ms", timeout_.count());
    if (r < 0 && errno != EINTR) throw_errno("port forward: poll");
    if (r < 0) continue;
    ssize_t got = ::read(fd_.get(), out, n);
    if (got == 0) {
      closed_ = true;
      fail("port forward: the server closed the connection");
    }
    if (got < 0) {
      if (errno == EINTR) continue;
      throw_errno("port forward: read");
    }
    out += got;
    n -= static_cast<size_t>(got);
  }
}

bool PortForwardStream::read_message(uint8_t& opcode, std::string& payload) {
  payload.clear();
  for (;;) {
    uint8_t h[2];
    read_exactly(h, 2);
    uint8_t op = h[0] & 0x0f;
    uint64_t n = h[1] & 0x7f;
    if (n == 126 || n == 127) {
      uint8_t ext[8];
      size_t len = n == 126 ? 2 : 8;
      read_exactly(ext, len);
      n = 0;
      for (size_t i = 0; i < len; ++i) n = (n << 8) | ext[i];
    }
    uint8_t mask[4] = {0, 0, 0, 0};
    if (h[1] & 0x80) read_exactly(mask, 4);
    if (payload.size() + n > kMaxMessage) fail("port forward: a message over 16 MiB");
    std::string part(n, '\0');
    if (n) read_exactly(part.data(), n);
    for (size_t i = 0; i < n; ++i) part[i] = static_cast<char>(part[i] ^ mask[i % 4]);
    if (op == kPing) {
      write_all(fd_.get(), websocket::client_frame(0xA, part, 0x1234abcd));
      continue;
    }
    if (op != kContinuation) opcode = op;
    payload += part;
    if (h[0] & 0x80) return opcode != kClose;
  }
}

void PortForwardStream::write(std::string_view data) {
  std::string message(1, static_cast<char>(kDataChannel));
  message += data;
  write_all(fd_.get(), websocket::client_frame(kBinary, message, std::random_device{}()));
}

std::optional<std::string> PortForwardStream::read() {
  for (;;) {
    uint8_t opcode = 0;
    std::string m;
    try {
      if (!read_message(opcode, m)) return std::nullopt;
    } catch (const Error&) {
      // A closed connection is the stream's end; a timeout is an error.
      if (closed_ && port_seen_[0]) return std::nullopt;
      throw;
    }
    if (m.empty()) continue;
    uint8_t channel = static_cast<uint8_t>(m[0]);
    std::string body = m.substr(1);
    if (channel > kErrorChannel) fail("port forward: a message on channel {}", channel);
    if (!port_seen_[channel]) {
      // The port both channels begin with.
      port_seen_[channel] = true;
      continue;
    }
    if (channel == kErrorChannel) {
      if (body.empty()) continue;
      fail("port forward: the server's error: {}", body);
    }
    if (!body.empty()) return body;
  }
}

std::string PortForwardStream::read_at_least(size_t n) {
  std::string out;
  while (out.size() < n) {
    auto part = read();
    if (!part) break;
    out += *part;
  }
  return out;
}

}  // namespace vmrt::cri
