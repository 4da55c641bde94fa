#include "agent/init/signal_pipe.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>

#include "common/error.h"

namespace vmrt::agent::init {
namespace {

// The pipe each signal's handler writes to, plus one: zero-initialized
// means none.
std::atomic<int> g_write_fd_plus1[NSIG];

void on_signal(int sig) {
  int saved = errno;
  int fd = g_write_fd_plus1[sig].load() - 1;
  unsigned char b = static_cast<unsigned char>(sig);
  // A full pipe already says "something arrived"; losing this byte is fine.
  if (fd >= 0) [[maybe_unused]]
    ssize_t n = ::write(fd, &b, 1);
  errno = saved;
}

void on_sigpipe(int) {}

void set_action(int sig, void (*handler)(int)) {
  struct sigaction sa {};
  sa.sa_handler = handler;
  sa.sa_flags = SA_RESTART;
  sigemptyset(&sa.sa_mask);
  check_sys(::sigaction(sig, &sa, nullptr), "sigaction");
}

}  // namespace

SignalPipe::SignalPipe(std::initializer_list<int> signals) : signals_(signals) {
  int fds[2];
  check_sys(::pipe2(fds, O_CLOEXEC | O_NONBLOCK), "pipe2");
  read_.reset(fds[0]);
  write_.reset(fds[1]);
  for (int sig : signals_) {
    g_write_fd_plus1[sig] = write_.get() + 1;
    set_action(sig, on_signal);
  }
}

SignalPipe::~SignalPipe() {
  for (int sig : signals_) {
    struct sigaction sa {};
    sa.sa_handler = SIG_DFL;
    ::sigaction(sig, &sa, nullptr);
    g_write_fd_plus1[sig] = 0;
  }
}

int SignalPipe::drain() {
  int last = 0;
  unsigned char buf[64];
  ssize_t n;
  while ((n = ::read(read_.get(), buf, sizeof buf)) > 0) last = buf[n - 1];
  return last;
}

void catch_sigpipe() { set_action(SIGPIPE, on_sigpipe); }

}  // namespace vmrt::agent::init
