#include "monitor/http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <charconv>
#include <cstring>

#include "common/error.h"

namespace vmrt::monitor {
namespace {

using Clock = std::chrono::steady_clock;

const char* reason(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
  }
  return "Error";
}

HttpAnswer plain(int status, std::string body) {
  return {status, "text/plain; charset=utf-8", std::move(body) + "\n"};
}

bool token_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.';
}

// Waits until `fd` is ready for `events`, the deadline passes (false) or
// `stop` is signalled (false).
bool wait_ready(int fd, short events, Clock::time_point deadline, int stop) {
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return false;
    pollfd p[2] = {{fd, events, 0}, {stop, POLLIN, 0}};
    int r = ::poll(p, 2, static_cast<int>(left.count()));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return false;
    if (p[1].revents) return false;
    if (r > 0) return true;
  }
}

}  // namespace

HttpAnswer answer_request(std::string_view head, const std::function<std::string()>& metrics) {
  std::string_view line = head.substr(0, head.find("\r\n"));
  // METHOD SP TARGET SP HTTP/1.x, nothing else.
  size_t sp1 = line.find(' ');
  size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos)
    return plain(400, "malformed request line");
  std::string_view method = line.substr(0, sp1);
  std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  std::string_view version = line.substr(sp2 + 1);
  if (method.empty() || target.empty() || (version != "HTTP/1.1" && version != "HTTP/1.0"))
    return plain(400, "malformed request line");
  for (char c : method)
    if (!token_char(c)) return plain(400, "malformed method");
  for (char c : target)
    if (c <= 0x20 || c >= 0x7f) return plain(400, "malformed target");
  std::string_view path = target.substr(0, target.find('?'));
  if (path != "/metrics") return plain(404, "not found: only /metrics is served");
  if (method != "GET") return plain(405, "only GET is allowed");
  return {200, "text/plain; version=0.0.4; charset=utf-8", metrics()};
}

std::string render_response(const HttpAnswer& a) {
  std::string head = fmt::format(
      "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n", a.status,
      reason(a.status), a.content_type, a.body.size());
  if (a.status == 405) head += "Allow: GET\r\n";
  return head + "\r\n" + a.body;
}

UniqueFd listen_tcp(const std::string& address) {
  size_t colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0)
    fail("listen address {}: expected ADDR:PORT", address);
  std::string host = address.substr(0, colon);
  std::string_view port_text = std::string_view(address).substr(colon + 1);
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port > 65535)
    fail("listen address {}: the port must be a number from 0 to 65535", address);
  sockaddr_storage ss{};
  socklen_t len = 0;
  int family = AF_INET;
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    auto* a6 = reinterpret_cast<sockaddr_in6*>(&ss);
    a6->sin6_family = family = AF_INET6;
    a6->sin6_port = htons(static_cast<uint16_t>(port));
    if (inet_pton(AF_INET6, host.substr(1, host.size() - 2).c_str(), &a6->sin6_addr) != 1)
      fail("listen address {}: {} is not an IPv6 address", address, host);
    len = sizeof *a6;
  } else {
    auto* a4 = reinterpret_cast<sockaddr_in*>(&ss);
    a4->sin_family = AF_INET;
    a4->sin_port = htons(static_cast<uint16_t>(port));
    if (inet_pton(AF_INET, host.c_str(), &a4->sin_addr) != 1)
      fail("listen address {}: {} is not an IPv4 address", address, host);
    len = sizeof *a4;
  }
  UniqueFd fd(check_sys(::socket(family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0),
                        "socket for " + address));
  int one = 1;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  check_sys(::bind(fd.get(), reinterpret_cast<sockaddr*>(&ss), len), "bind " + address);
  check_sys(::listen(fd.get(), 64), "listen on " + address);
  return fd;
}

HttpServer::HttpServer(UniqueFd listener, std::function<std::string()> metrics, unsigned workers)
    : listener_(std::move(listener)),
      metrics_(std::move(metrics)),
      stop_(make_eventfd("HTTP server stop")) {
  for (unsigned i = 0; i < std::max(1u, workers); ++i) workers_.emplace_back([this] { work(); });
}

HttpServer::~HttpServer() {
  signal_eventfd(stop_.get());
  workers_.clear();  // joins
}

uint16_t HttpServer::port() const {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  check_sys(::getsockname(listener_.get(), reinterpret_cast<sockaddr*>(&ss), &len), "getsockname");
  if (ss.ss_family == AF_INET6) return ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
  return ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
}

void HttpServer::work() {
  for (;;) {
    pollfd p[2] = {{listener_.get(), POLLIN, 0}, {stop_.get(), POLLIN, 0}};
    if (::poll(p, 2, -1) < 0 && errno != EINTR) {
      spdlog::error("HTTP server: poll: {}", std::strerror(errno));
      return;
    }
    if (p[1].revents) return;
    if (!p[0].revents) continue;
    // Non-blocking: another worker may have taken the connection.
    int c = ::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (c < 0) continue;
    try {
      serve(UniqueFd(c));
    } catch (const std::exception& e) {
      // One connection's trouble (a client gone, memory) ends that
      // connection, never the monitor.
      spdlog::warn("HTTP connection: {}", e.what());
    }
  }
}

void HttpServer::serve(UniqueFd conn) {
  auto deadline = Clock::now() + kRequestTimeout;
  std::string head;
  HttpAnswer answer;
  for (;;) {
    size_t end = head.find("\r\n\r\n");
    if (end != std::string::npos) {
      try {
        answer = answer_request(std::string_view(head).substr(0, end + 2), metrics_);
      } catch (const std::exception& e) {
        // A scrape that failed as a whole (no memory, no threads): the
        // client hears so, and the server goes on.
        spdlog::error("/metrics: {}", e.what());
        answer = plain(500, "the scrape failed; see the monitor's log");
      }
      break;
    }
    if (head.size() > kMaxRequestHead) {
      answer = plain(431, "request larger than " + std::to_string(kMaxRequestHead) + " bytes");
      break;
    }
    if (!wait_ready(conn.get(), POLLIN, deadline, stop_.get())) return;  // slow or stopping
    char buf[2048];
    ssize_t n = ::recv(conn.get(), buf, sizeof buf, 0);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) return;  // the client went away before asking
    head.append(buf, static_cast<size_t>(n));
  }
  std::string out = render_response(answer);
  deadline = Clock::now() + kRequestTimeout;
  for (size_t done = 0; done < out.size();) {
    ssize_t n = ::send(conn.get(), out.data() + done, out.size() - done, MSG_NOSIGNAL);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
      if (!wait_ready(conn.get(), POLLOUT, deadline, stop_.get())) return;
      continue;
    }
    if (n < 0) return;
    done += static_cast<size_t>(n);
  }
  // Unread input at the close (a body we ignore, the rest of an oversized
  // head) would make the kernel reset the connection, which can lose the
  // response on its way: say we are done, then drop what has arrived.
  ::shutdown(conn.get(), SHUT_WR);
  char sink[4096];
  for (size_t drained = 0; drained < 16 * kMaxRequestHead;) {
    ssize_t n = ::recv(conn.get(), sink, sizeof sink, MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    drained += static_cast<size_t>(n);
  }
}

}  // namespace vmrt::monitor
