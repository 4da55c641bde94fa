#include "tests/unit/monitor/fake_control_socket.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "common/event_fd.h"
#include "common/unix_socket.h"

namespace vmrt::monitor::test {

FakeControlSocket::FakeControlSocket(const std::filesystem::path& path,
                                     std::map<std::string, std::string> replies, Mode mode)
    : replies_(std::move(replies)), mode_(mode) {
  std::filesystem::create_directories(path.parent_path());
  listener_ = listen_unix(path);
  stop_ = make_eventfd("fake control socket stop");
  thread_ = std::jthread([this] { serve(); });
}

FakeControlSocket::~FakeControlSocket() {
  signal_eventfd(stop_.get());
  thread_ = {};  // joins
}

bool FakeControlSocket::wait(int fd, short events) {
  for (;;) {
    pollfd p[2] = {{fd, events, 0}, {stop_.get(), POLLIN, 0}};
    if (::poll(p, 2, -1) < 0) continue;
    if (p[1].revents) return false;
    if (p[0].revents) return true;
  }
}

void FakeControlSocket::serve() {
  while (wait(listener_.get(), POLLIN)) {
    UniqueFd conn = accept_unix(listener_.get());
    if (conn) serve_connection(conn.get());
  }
}

void FakeControlSocket::serve_connection(int fd) {
  std::string pending;
  while (wait(fd, POLLIN)) {
    char buf[512];
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) return;
    pending.append(buf, static_cast<size_t>(n));
    size_t nl;
    while ((nl = pending.find('\n')) != std::string::npos) {
      auto req = nlohmann::json::parse(pending.substr(0, nl), nullptr, false);
      pending.erase(0, nl + 1);
      if (mode_ == Mode::Silent) continue;
      if (mode_ == Mode::Flood) {
        std::string junk(65536, 'x');
        while (wait(fd, POLLOUT))
          if (::send(fd, junk.data(), junk.size(), MSG_NOSIGNAL | MSG_DONTWAIT) < 0 &&
              errno != EAGAIN)
            return;
        return;
      }
      std::string cmd = req.is_object() ? req.value("cmd", "") : "";
      auto it = replies_.find(cmd);
      std::string reply =
          it != replies_.end() ? it->second : R"({"ok":false,"error":"unknown command"})";
      reply += "\n";
      if (::send(fd, reply.data(), reply.size(), MSG_NOSIGNAL) < 0) return;
    }
  }
}

std::map<std::string, std::string> sample_replies() {
  return {
      {"info",
       R"({"ok":true,"state":"running","cpus":2,"max_cpus":2,"vcpu_exits":[5120,880],"mem_mib":256,"pid":1})"},
      {"counters",
       R"({"ok":true,"state":"running","counters":{"fs":{"requests":{"INIT":1,"LOOKUP":7},"errors":0,"malformed":0},"vsock":{"streams_refused":0,"resets_sent":1,"resets_received":0,"credit_overruns":0,"control_dropped":0,"connects_refused":0,"control_peak":2}}})"},
  };
}

}  // namespace vmrt::monitor::test
