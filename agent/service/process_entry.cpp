#include "agent/service/process_entry.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <array>

#include "agent/service/request_error.h"
#include "common/error.h"
#include "common/fd_io.h"

namespace vmrt::agent {
namespace {

// How often a blocked stream checks whether its call was cancelled.
constexpr int kCancelCheckMs = 100;

UniqueFd dup_fd(int fd, const char* what) {
  return UniqueFd(check_sys(::fcntl(fd, F_DUPFD_CLOEXEC, 0), what));
}

// Waits until `fd` is ready for `events` or the call is cancelled; false
// when cancelled.
bool wait_ready(int fd, short events, grpc::ServerContext& ctx) {
  for (;;) {
    if (ctx.IsCancelled()) return false;
    pollfd p{fd, events, 0};
    int n = ::poll(&p, 1, kCancelCheckMs);
    if (n < 0 && errno != EINTR) throw_errno("poll");
    if (n > 0) return true;
  }
}

}  // namespace

ProcessEntry::ProcessEntry(Process& process, bool open_stdin)
    : process_(process), pidfd_(dup_fd(process.pidfd(), "dup pidfd")) {
  ProcessStdio& io = process.stdio();
  if (io.terminal) {
    // Duplicates: the master stays with the process for resize_terminal().
    terminal_ = true;
    stdin_ = dup_fd(io.terminal.get(), "dup terminal");
    stdout_ = dup_fd(io.terminal.get(), "dup terminal");
  } else {
    stdin_ = std::move(io.in);
    stdout_ = std::move(io.out);
    stderr_ = std::move(io.err);
  }
  if (!open_stdin && !terminal_) stdin_.reset();
  // Writes wait in poll() so that a cancelled call does not stay blocked on
  // a process that never reads.
  if (stdin_) set_nonblocking(stdin_.get());
}

size_t ProcessEntry::write_stdin(std::string_view data, grpc::ServerContext& ctx) {
  std::lock_guard lock(stdin_mu_);
  if (!stdin_) reject(grpc::StatusCode::FAILED_PRECONDITION, "stdin is closed or was not opened");
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(stdin_.get(), data.data() + done, data.size() - done);
    if (n > 0) {
      done += n;
      continue;
    }
    if (errno == EINTR) continue;
    if (errno == EPIPE)
      reject(grpc::StatusCode::FAILED_PRECONDITION, "stdin: the process closed it");
    if (errno != EAGAIN) throw_errno("write stdin");
    if (!wait_ready(stdin_.get(), POLLOUT, ctx)) break;
  }
  return done;
}

void ProcessEntry::close_stdin() {
  std::lock_guard lock(stdin_mu_);
  if (terminal_) {
    // A terminal has no separate stdin to close; end of file is ^D.
    if (stdin_) {
      char eot = 4;
      if (::write(stdin_.get(), &eot, 1) < 0 && errno != EIO) throw_errno("write ^D to terminal");
    }
    return;
  }
  stdin_.reset();
}

void ProcessEntry::stream_output(v1::OutputStream which,
                                 grpc::ServerWriter<v1::OutputChunk>& writer,
                                 grpc::ServerContext& ctx) {
  if (which != v1::STDOUT && which != v1::STDERR)
    reject(grpc::StatusCode::INVALID_ARGUMENT, "stream: must be STDOUT or STDERR");
  UniqueFd& fd = which == v1::STDOUT ? stdout_ : stderr_;
  std::atomic<bool>& busy = which == v1::STDOUT ? stdout_busy_ : stderr_busy_;
  // A process with a terminal has no stderr: its stream is empty.
  if (!fd) return;
  if (busy.exchange(true))
    reject(grpc::StatusCode::ALREADY_EXISTS, "{} is being read by another call",
           which == v1::STDOUT ? "stdout" : "stderr");
  struct Release {
    std::atomic<bool>& b;
    ~Release() { b = false; }
  } release{busy};

  std::array<char, 32 * 1024> buf;
  v1::OutputChunk chunk;
  while (wait_ready(fd.get(), POLLIN, ctx)) {
    ssize_t n = ::read(fd.get(), buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    // A terminal master reads EIO once the last slave is closed: its end of file.
    if (n == 0 || (n < 0 && errno == EIO && terminal_)) return;
    if (n < 0) {
      if (errno == EAGAIN) continue;
      throw_errno("read output");
    }
    chunk.set_data(buf.data(), n);
    if (!writer.Write(chunk)) return;  // the client went away
  }
}

v1::WaitProcessResponse to_wait_response(const ExitStatus& status) {
  v1::WaitProcessResponse r;
  r.set_exited(status.exited);
  r.set_exit_code(status.exited ? status.code : 0);
  r.set_signal(status.exited ? 0 : status.signal);
  r.set_status(status.exited ? status.code : 128 + status.signal);
  return r;
}

}  // namespace vmrt::agent
