#include "vmm/devices/vsock/hybrid_handshake.h"

#include <fmt/format.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <string_view>

#include "common/hybrid_vsock.h"

namespace vmrt::vmm::vsock {

namespace {
constexpr size_t kMaxLine = 32;  // "CONNECT 4294967295\n" and then some
}

HandshakeResult read_connect_line(int fd) {
  char buf[kMaxLine];
  // Peek first: only the line itself may be consumed.
  ssize_t n = ::recv(fd, buf, sizeof buf, MSG_PEEK);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return {};
  if (n < 0)
    return {HandshakeResult::Invalid, 0, fmt::format("client socket: {}", strerror(errno))};
  if (n == 0) return {HandshakeResult::Invalid, 0, "client closed before its CONNECT line"};
  std::string_view seen(buf, static_cast<size_t>(n));
  size_t nl = seen.find('\n');
  if (nl == std::string_view::npos) {
    if (seen.size() == sizeof buf) return {HandshakeResult::Invalid, 0, "CONNECT line too long"};
    return {};
  }
  [[maybe_unused]] ssize_t consumed = ::recv(fd, buf, nl + 1, 0);
  std::string_view line = seen.substr(0, nl);
  auto port = hybrid_vsock::parse_connect(line);
  if (!port)
    return {HandshakeResult::Invalid, 0,
            fmt::format("expected \"CONNECT <port>\", got \"{}\"", line)};
  return {HandshakeResult::Connect, *port, {}};
}

}  // namespace vmrt::vmm::vsock
