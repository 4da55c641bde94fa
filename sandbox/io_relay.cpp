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
  {
    std::lock_guard lock(mu_);
    for (auto& ctx : calls_) ctx->TryCancel();
  }
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
  auto ctx = std::make_shared<grpc::ClientContext>();
  {
    std::lock_guard lock(mu_);
    if (stopping_) {
      --streams_open_;
      cv_.notify_all();
      return;
    }
    calls_.push_back(ctx);
  }
  v1::ReadOutputRequest req;
  req.set_container_id(container_id_);
  req.set_exec_id(exec_id_);
  req.set_stream(stream);
  auto reader = agent_.stub().ReadOutput(ctx.get(), req);
  v1::OutputChunk chunk;
  bool writable = fd >= 0;
  while (reader->Read(&chunk)) {
    if (!writable) continue;  // keep draining so the process never blocks on a full pipe
    try {
      write_all(fd, chunk.data());
    } catch (const Error& e) {
      spdlog::warn("{} {}: output no longer relayed: {}", container_id_,
                   stream == v1::STDOUT ? "stdout" : "stderr", e.what());
      writable = false;
    }
  }
  grpc::Status s = reader->Finish();
  if (!s.ok() && !stopping_)
    spdlog::debug("{}: ReadOutput ended: {}", container_id_, s.error_message());
  finish_stream();
}

bool IoRelay::send_stdin(const char* data, size_t size) {
  while (size > 0 && !stopping_) {
    v1::WriteStdinRequest req;
    req.set_container_id(container_id_);
    req.set_exec_id(exec_id_);
    req.set_data(data, size);
    v1::WriteStdinResponse r;
    // Short deadlines: a process that stops reading must not pin this
    // thread past the relay's end.
    auto ctx = deadline_context(2s);
    grpc::Status s = agent_.stub().WriteStdin(ctx.get(), req, &r);
    if (!s.ok() && s.error_code() != grpc::StatusCode::DEADLINE_EXCEEDED) return false;
    size_t n = s.ok() ? std::min<size_t>(r.written(), size) : 0;
    data += n;
    size -= n;
  }
  return size == 0;
}

void IoRelay::pump_input(int fd) {
  std::array<char, 32 * 1024> buf;
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
  v1::CloseStdinResponse r;
  auto ctx = deadline_context(5s);
  agent_.stub().CloseStdin(ctx.get(), req, &r);
}

}  // namespace vmrt::sandbox
