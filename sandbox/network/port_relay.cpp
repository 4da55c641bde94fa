#include "sandbox/network/port_relay.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <cstring>

#include "common/error.h"
#include "common/event_fd.h"
#include "common/fd_io.h"
#include "common/forward/forward_protocol.h"
#include "common/forward/stream_splice.h"
#include "sandbox/network/netns_thread.h"

namespace vmrt::sandbox::network {
namespace {

// How long the guest has to answer a request line.
constexpr std::chrono::seconds kAnswerTimeout{5};

// A listener on the loopback address of `family` at `port`, or an invalid
// fd when the address cannot be had (in use, no ::1 in the namespace).
UniqueFd listen_loopback(int family, uint16_t port) {
  UniqueFd fd(::socket(family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd) return {};
  int one = 1;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_storage ss{};
  socklen_t len;
  if (family == AF_INET) {
    auto* a = reinterpret_cast<sockaddr_in*>(&ss);
    a->sin_family = AF_INET;
    a->sin_port = htons(port);
    a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    len = sizeof *a;
  } else {
    ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(port);
    a->sin6_addr = in6addr_loopback;
    len = sizeof *a;
  }
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&ss), len) < 0 || ::listen(fd.get(), 64) < 0)
    return {};
  return fd;
}

// One answer line, within kAnswerTimeout in all: a guest sending a byte
// at a time cannot hold the relay longer than that.
std::string read_answer(int fd) {
  auto deadline = std::chrono::steady_clock::now() + kAnswerTimeout;
  std::string line;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    pollfd p{fd, POLLIN, 0};
    int n = left.count() > 0 ? ::poll(&p, 1, static_cast<int>(left.count())) : 0;
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) fail("the guest's port forwarder did not answer in time");
    char c;
    ssize_t got = ::read(fd, &c, 1);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) fail("the guest's port forwarder closed the connection without an answer");
    if (c == '\n') return line;
    if (line.size() == forward::kMaxLine)
      fail("the guest's port forwarder answered too long a line");
    line.push_back(c);
  }
}

// Sends `request` to a new forwarder connection and reads its answer line.
std::string ask(const PortRelay::ConnectGuest& connect, UniqueFd& conn, std::string_view request) {
  conn = connect();
  write_all(conn.get(), request);
  return read_answer(conn.get());
}

}  // namespace

PortRelay::PortRelay(std::filesystem::path netns, ConnectGuest connect,
                     std::chrono::milliseconds interval)
    : netns_(std::move(netns)),
      connect_(std::move(connect)),
      interval_(interval),
      stop_(make_eventfd("port relay")),
      wake_(make_eventfd("port relay")) {
  thread_ = std::thread([this] { run(); });
}

PortRelay::~PortRelay() {
  signal_eventfd(stop_.get());
  thread_.join();
}

std::set<uint16_t> PortRelay::ports() const {
  std::lock_guard lock(mu_);
  std::set<uint16_t> out;
  for (const Listener& l : listeners_) out.insert(l.port);
  return out;
}

void PortRelay::refresh_now() {
  std::unique_lock lock(mu_);
  uint64_t request = ++requested_;
  signal_eventfd(wake_.get());
  refreshed_.wait(lock, [&] { return done_ >= request; });
}

void PortRelay::run() {
  auto next = std::chrono::steady_clock::now();
  for (;;) {
    if (std::chrono::steady_clock::now() >= next) {
      refresh();
      next = std::chrono::steady_clock::now() + interval_;
    }
    std::vector<pollfd> p{{stop_.get(), POLLIN, 0}, {wake_.get(), POLLIN, 0}};
    {
      std::lock_guard lock(mu_);
      for (const Listener& l : listeners_) p.push_back({l.fd.get(), POLLIN, 0});
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        next - std::chrono::steady_clock::now());
    int n = ::poll(p.data(), p.size(), std::max<int>(0, static_cast<int>(left.count())));
    if (n < 0 && errno != EINTR) {
      spdlog::error("port relay: poll: {}", std::strerror(errno));
      return;
    }
    if (p[0].revents) return;
    if (p[1].revents) {
      drain_eventfd(wake_.get());
      next = std::chrono::steady_clock::now();
    }
    // Only this thread changes listeners_: the fds polled are still theirs.
    for (size_t i = 2; i < p.size(); ++i)
      if (p[i].revents & POLLIN) {
        std::lock_guard lock(mu_);
        for (const Listener& l : listeners_)
          if (l.fd.get() == p[i].fd) accept_on(l);
      }
  }
}

void PortRelay::refresh() {
  uint64_t request;
  {
    std::lock_guard lock(mu_);
    request = requested_;
  }
  std::set<uint16_t> wanted;
  bool answered = false;
  try {
    UniqueFd conn;
    std::string line = ask(connect_, conn, forward::kPortsLine);
    auto ports = forward::parse_ports(line);
    if (!ports) fail("the guest's port forwarder answered \"{}\"", line.substr(0, 80));
    wanted = std::move(*ports);
    answered = true;
  } catch (const Error& e) {
    spdlog::debug("port relay: {}", e.what());
  }
  if (answered) {
    std::set<uint16_t> have = ports();
    {
      std::lock_guard lock(mu_);
      std::erase_if(listeners_, [&](const Listener& l) { return !wanted.count(l.port); });
      std::erase_if(failed_, [&](uint16_t p) { return !wanted.count(p); });
    }
    std::set<uint16_t> added;
    for (uint16_t p : wanted)
      if (!have.count(p) && !failed_.count(p)) added.insert(p);
    if (!added.empty()) open_listeners(added);
  }
  std::lock_guard lock(mu_);
  done_ = request;
  refreshed_.notify_all();
}

void PortRelay::open_listeners(const std::set<uint16_t>& ports) {
  std::vector<Listener> opened;
  std::set<uint16_t> failed;
  auto open_all = [&] {
    for (uint16_t p : ports) {
      UniqueFd v4 = listen_loopback(AF_INET, p);
      if (!v4) {
        failed.insert(p);
        continue;
      }
      opened.push_back({p, std::move(v4)});
      // containerd dials tcp4 first; ::1 serves a client that resolves
      // localhost to it, when the namespace has IPv6.
      if (UniqueFd v6 = listen_loopback(AF_INET6, p)) opened.push_back({p, std::move(v6)});
    }
  };
  try {
    if (netns_.empty())
      open_all();
    else
      in_network_namespace(netns_, open_all);
  } catch (const Error& e) {
    spdlog::warn("port relay: {}", e.what());
    return;
  }
  for (uint16_t p : failed)
    spdlog::warn("port relay: cannot listen on 127.0.0.1:{} in the pod's network namespace", p);
  std::lock_guard lock(mu_);
  failed_.merge(failed);
  for (Listener& l : opened) listeners_.push_back(std::move(l));
}

void PortRelay::accept_on(const Listener& l) {
  UniqueFd client(::accept4(l.fd.get(), nullptr, nullptr, SOCK_CLOEXEC));
  if (!client) return;  // gone before we took it, or out of descriptors: the next poll retries
  auto shared = std::make_shared<UniqueFd>(std::move(client));
  uint16_t port = l.port;
  if (!sessions_.start(
          [this, shared, port](int stop_fd) { relay(std::move(*shared), port, stop_fd); }))
    spdlog::warn("port relay: {} connections at once, one more refused", forward::kMaxSessions);
}

void PortRelay::relay(UniqueFd client, uint16_t port, int stop_fd) {
  UniqueFd guest;
  std::string answer = ask(connect_, guest, forward::forward_line(port));
  if (answer + "\n" != forward::kOkLine) {
    // The client sees its connection closed, as with nothing listening.
    spdlog::debug("port relay: port {}: the guest answered \"{}\"", port, answer.substr(0, 200));
    return;
  }
  forward::splice_streams(client.get(), guest.get(), stop_fd);
}

}  // namespace vmrt::sandbox::network
