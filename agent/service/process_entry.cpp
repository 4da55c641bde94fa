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

// How often a blocked call checks whether its connection ended.
constexpr int kStopCheckMs = 100;
// The most one ReadOutput answer carries.
constexpr size_t kMaxChunk = 64 * 1024;

UniqueFd dup_fd(int fd, const char* what) {
  return UniqueFd(check_sys(::fcntl(fd, F_DUPFD_CLOEXEC, 0), what));
}

// Waits until `fd` is ready for `events`; false when `until` passes or a
// stop is requested first.
bool wait_ready(int fd, short events, std::chrono::steady_clock::time_point until,
                const std::stop_token& stop) {
  using namespace std::chrono;
  for (;;) {
    if (stop.stop_requested()) return false;
    auto left =
        std::max<int64_t>(0, duration_cast<milliseconds>(until - steady_clock::now()).count());
    pollfd p{fd, events, 0};
    int n = ::poll(&p, 1, static_cast<int>(std::min<int64_t>(left, kStopCheckMs)));
    if (n < 0 && errno != EINTR) throw_errno("poll");
    if (n > 0) return true;
    if (left == 0) return false;  // looked once more after the time was up
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

size_t ProcessEntry::write_stdin(std::string_view data, std::chrono::steady_clock::time_point until,
                                 std::stop_token stop) {
  std::lock_guard lock(stdin_mu_);
  if (!stdin_) reject(Code::FailedPrecondition, "stdin is closed or was not opened");
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(stdin_.get(), data.data() + done, data.size() - done);
    if (n > 0) {
      done += n;
      continue;
    }
    if (errno == EINTR) continue;
    if (errno == EPIPE) reject(Code::FailedPrecondition, "stdin: the process closed it");
    if (errno != EAGAIN) throw_errno("write stdin");
    if (!wait_ready(stdin_.get(), POLLOUT, until, stop)) break;
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

v1::ReadOutputResponse ProcessEntry::read_output(v1::OutputStream which,
                                                 std::chrono::steady_clock::time_point until,
                                                 std::stop_token stop) {
  if (which != v1::STDOUT && which != v1::STDERR)
    reject(Code::InvalidArgument, "stream: must be STDOUT or STDERR");
  bool out = which == v1::STDOUT;
  UniqueFd& fd = out ? stdout_ : stderr_;
  std::atomic<bool>& busy = out ? stdout_busy_ : stderr_busy_;
  bool& eof = out ? stdout_eof_ : stderr_eof_;
  v1::ReadOutputResponse r;
  // A process with a terminal has no stderr: its stream is empty.
  if (!fd) {
    r.set_eof(true);
    return r;
  }
  if (busy.exchange(true))
    reject(Code::AlreadyExists, "{} is being read by another call", out ? "stdout" : "stderr");
  struct Release {
    std::atomic<bool>& b;
    ~Release() { b = false; }
  } release{busy};
  if (eof) {
    r.set_eof(true);
    return r;
  }

  std::string& data = *r.mutable_data();
  data.resize(kMaxChunk);
  size_t got = 0;
  // Waits only for the first bytes; then takes what else is there at once.
  auto deadline = until;
  while (got < kMaxChunk && wait_ready(fd.get(), POLLIN, deadline, stop)) {
    ssize_t n = ::read(fd.get(), data.data() + got, kMaxChunk - got);
    if (n < 0 && errno == EINTR) continue;
    // A terminal master reads EIO once the last slave is closed: its end of file.
    if (n == 0 || (n < 0 && errno == EIO && terminal_)) {
      eof = true;
      break;
    }
    if (n < 0) {
      if (errno == EAGAIN) continue;
      throw_errno("read output");
    }
    got += n;
    deadline = std::chrono::steady_clock::now();
  }
  data.resize(got);
  // End of file is told once the data before it has been taken.
  r.set_eof(eof && got == 0);
  return r;
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
