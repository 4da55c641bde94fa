#include "tests/unit/monitor/fake_agent.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/event_fd.h"
#include "common/fd_io.h"
#include "common/ttrpc/frame.h"
#include "common/unix_socket.h"

namespace vmrt::monitor::test {

std::string stats_answer(const agent::v1::SandboxStatsResponse& stats, uint32_t stream) {
  ttrpc::wire::Response r;
  r.set_payload(stats.SerializeAsString());
  return ttrpc::encode_frame(stream, ttrpc::MessageType::Response, r.SerializeAsString());
}

FakeAgent::FakeAgent(const std::filesystem::path& vm_socket, std::string answer)
    : answer_(std::move(answer)) {
  std::filesystem::create_directories(vm_socket.parent_path());
  listener_ = listen_unix(vm_socket);
  stop_ = make_eventfd("fake agent stop");
  thread_ = std::jthread([this] { serve(); });
}

FakeAgent::~FakeAgent() {
  signal_eventfd(stop_.get());
  thread_ = {};  // joins
}

bool FakeAgent::wait(int fd) {
  for (;;) {
    pollfd p[2] = {{fd, POLLIN, 0}, {stop_.get(), POLLIN, 0}};
    if (::poll(p, 2, -1) < 0) continue;
    if (p[1].revents) return false;
    if (p[0].revents) return true;
  }
}

void FakeAgent::serve() {
  while (wait(listener_.get())) {
    UniqueFd conn = accept_unix(listener_.get());
    if (conn) serve_connection(conn.get());
  }
}

void FakeAgent::serve_connection(int fd) {
  // The CONNECT line, byte by byte: the request frame follows it.
  std::string line;
  char c = 0;
  while (line.size() < 64 && wait(fd) && ::read(fd, &c, 1) == 1 && c != '\n') line += c;
  if (line != "CONNECT 1024") return;
  write_all(fd, "OK 1\n");
  if (!wait(fd)) return;
  try {
    if (!ttrpc::read_frame(fd, ttrpc::MessageType::Request)) return;
  } catch (const Error&) {
    return;
  }
  if (!answer_.empty()) {
    ::send(fd, answer_.data(), answer_.size(), MSG_NOSIGNAL);
  }
  // Held open until the monitor lets go (or the test ends).
  while (wait(fd)) {
    char buf[256];
    if (::read(fd, buf, sizeof buf) <= 0) return;
  }
}

}  // namespace vmrt::monitor::test
