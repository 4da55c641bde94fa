#include "sandbox/io_relay.h"

#include <poll.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <array>

#include "common/event_fd.h"
#include "common/fd_io.h"

namespace vmrt::sandbox {

using namespace std::chrono_literals;

IoRelay::IoRelay(AgentClient& agent, std::string container_id, std::string exec_id, RelayFds fds)
    : agent_(agent),
      container_id_(std::move(container_id)),
      exec_id_(std::move(exec_id)),
      stop_(make_eventfd("io relay stop")) {
  threads_.emplace_back([this, fd = fds.out] { pump_output(v1::STDOUT, fd); });
  threads_.emplace_back([this, fd = fds.err] { pump_output(v1::STDERR, fd); });
  if (fds.in >= 0) threads_.emplace_back([this, fd = fds.in] { pump_input(fd); });
}

IoRelay::~IoRelay() {
  stopping_ = true;
  signal_eventfd(stop_.get());
  stop_calls_.request_stop();
  for (auto& t : threads_) t.join();
}

bool IoRelay::wait_outputs(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [this] { return streams_open_ == 0; });
}

void IoRelay::finish_stream() {
  std::lock_guard lock(mu_);
  --streams_open_;
  cv_.notify_all();
}

void IoRelay::pump_output(v1::OutputStream stream, int fd) {
  v1::ReadOutputRequest req;
  req.set_container_id(container_id_);
  req.set_exec_id(exec_id_);
  req.set_stream(stream);
  // The agent answers within wait_ms when the guest runs. No deadline: the
  // agent takes output out of the pipe before it answers, so a call given
  // up on drops what it carries, and a guest that stalls for a while (a
  // busy host) would lose the rest of the stream. The call ends when the
  // agent answers, the connection ends (the VM is gone) or the relay stops.
  req.set_wait_ms(1000);
  bool writable = fd >= 0;
  while (!stopping_) {
    v1::ReadOutputResponse chunk;
    try {
      chunk = agent_.read_output(req, {kNoDeadline, stop_calls_.get_token()});
    } catch (const AgentError& e) {
      if (!stopping_) spdlog::debug("{}: ReadOutput ended: {}", container_id_, e.what());
      break;
    }
    if (chunk.eof()) break;
    if (!writable) continue;  // keep draining so the process never blocks on a full pipe
    try {
      write_all(fd, chunk.data());
    } catch (const Error& e) {
      spdlog::warn("{} {}: output no longer relayed: {}", container_id_,
                   stream == v1::STDOUT ? "stdout" : "stderr", e.what());
      writable = false;
    }
  }
  finish_stream();
}

bool IoRelay::send_stdin(const char* data, size_t size) {
  while (size > 0 && !stopping_) {
    v1::WriteStdinRequest req;
    req.set_container_id(container_id_);
    req.set_exec_id(exec_id_);
    req.set_data(data, size);
    // Short deadlines: a process that stops reading must not pin this
    // thread past the relay's end. The agent answers by half of it with
    // what it wrote so far.
    size_t n = 0;
    try {
      auto r = agent_.write_stdin(req, {2s, stop_calls_.get_token()});
      n = std::min<size_t>(r.written(), size);
    } catch (const AgentError& e) {
      if (e.code() != ttrpc::Code::DeadlineExceeded) return false;
    }
    data += n;
    size -= n;
  }
  return size == 0;
}

void IoRelay::pump_input(int fd) {
  std::array<char, 32 * 1024> buf;
  // poll, not the common EventLoop: stdin may be a regular file (`vmrt run
  // < file`), which epoll refuses.
  for (;;) {
    pollfd p[2] = {{fd, POLLIN, 0}, {stop_.get(), POLLIN, 0}};
    if (::poll(p, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (p[1].revents) return;
    ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) break;                       // end of file (or an error: treated alike)
    if (!send_stdin(buf.data(), n)) return;  // the process closed its stdin or is gone
  }
  v1::CloseStdinRequest req;
  req.set_container_id(container_id_);
  req.set_exec_id(exec_id_);
  try {
    agent_.close_stdin(req, {5s, stop_calls_.get_token()});
  } catch (const AgentError& e) {
    spdlog::debug("{}: CloseStdin: {}", container_id_, e.what());
  }
}

}  // namespace vmrt::sandbox
