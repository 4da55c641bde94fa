#include "tools/vmrt/forwarded_signals.h"

#include <fcntl.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "common/error.h"

namespace vmrt::cli {

sigset_t forwarded_signals() {
  sigset_t set;
  sigemptyset(&set);
  for (int sig : {SIGHUP, SIGINT, SIGQUIT, SIGUSR1, SIGUSR2, SIGTERM, SIGALRM, SIGCONT, SIGTSTP,
                  SIGTTIN, SIGTTOU, SIGVTALRM, SIGPROF, SIGIO, SIGPWR, SIGXCPU, SIGXFSZ, SIGWINCH})
    sigaddset(&set, sig);
  for (int sig = SIGRTMIN; sig <= SIGRTMAX; ++sig) sigaddset(&set, sig);
  return set;
}

SignalReader::SignalReader(const sigset_t& set) {
  check_sys(::pthread_sigmask(SIG_BLOCK, &set, nullptr), "block signals");
  fd_.reset(check_sys(::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK), "signalfd"));
}

int SignalReader::read() {
  signalfd_siginfo si{};
  ssize_t n = ::read(fd_.get(), &si, sizeof si);
  return n == sizeof si ? static_cast<int>(si.ssi_signo) : 0;
}

}  // namespace vmrt::cli
