#include "common/hybrid_vsock.h"

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <charconv>

#include "common/error.h"
#include "common/fd_io.h"
#include "common/unix_socket.h"

namespace vmrt::hybrid_vsock {

namespace {
std::optional<uint32_t> parse_port(std::string_view prefix, std::string_view line) {
  if (!line.starts_with(prefix)) return std::nullopt;
  line.remove_prefix(prefix.size());
  if (line.empty() || line.size() > 10 || (line.size() > 1 && line[0] == '0')) return std::nullopt;
  uint32_t port = 0;
  auto [end, ec] = std::from_chars(line.data(), line.data() + line.size(), port);
  if (ec != std::errc() || end != line.data() + line.size()) return std::nullopt;
  return port;
}

// The answer line, read a byte at a time (the stream that follows belongs
// to the caller) and bounded by the deadline.
std::optional<std::string> read_answer(int fd, std::chrono::steady_clock::time_point deadline,
                                       uint32_t port) {
  std::string line;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    pollfd p{fd, POLLIN, 0};
    int r = ::poll(&p, 1, static_cast<int>(std::max<int64_t>(left.count(), 0)));
    if (r < 0 && errno == EINTR) continue;
    check_sys(r, "poll");
    if (r == 0)
      throw Error(
          fmt::format("vsock: guest port {} did not answer in time (is the guest up?)", port),
          ETIMEDOUT);
    char c;
    ssize_t n = ::recv(fd, &c, 1, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno != ECONNRESET)
      throw_errno(fmt::format("vsock: reading the answer for guest port {}", port));
    if (n <= 0) return std::nullopt;
    if (c == '\n') return line;
    if (line.size() >= 32) fail("vsock: malformed answer for guest port {}: \"{}...\"", port, line);
    line += c;
  }
}
}  // namespace

std::string connect_line(uint32_t port) { return "CONNECT " + std::to_string(port) + "\n"; }
std::string ok_line(uint32_t host_port) { return "OK " + std::to_string(host_port) + "\n"; }
std::optional<uint32_t> parse_connect(std::string_view line) {
  return parse_port("CONNECT ", line);
}
std::optional<uint32_t> parse_ok(std::string_view line) { return parse_port("OK ", line); }

UniqueFd connect_vsock(const std::filesystem::path& vm_socket, uint32_t port,
                       std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  UniqueFd fd;
  try {
    fd = connect_unix(vm_socket);
  } catch (const Error& e) {
    throw Error(fmt::format("vsock: no VM socket to connect through: {}", e.what()), e.code());
  }
  write_all(fd.get(), connect_line(port));
  std::optional<std::string> answer = read_answer(fd.get(), deadline, port);
  if (!answer)
    throw Error(
        fmt::format("vsock: guest port {} refused the connection (nothing listens there)", port),
        ECONNREFUSED);
  if (!parse_ok(*answer)) fail("vsock: malformed answer for guest port {}: \"{}\"", port, *answer);
  return fd;
}

}  // namespace vmrt::hybrid_vsock
