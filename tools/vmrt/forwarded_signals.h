#pragma once
// Signals a vmrt process passes on to the container's process instead of
// acting on them, as runc does: everything a user or a supervisor sends to
// stop, reload or poke a program (not SIGKILL/SIGSTOP, which cannot be
// caught, nor faults or SIGCHLD/SIGPIPE/SIGURG, which concern vmrt itself).
// SIGWINCH is in the set: it becomes a terminal resize.

#include <signal.h>

#include "common/fd.h"

namespace vmrt::cli {

sigset_t forwarded_signals();

// Blocks `set` in the calling thread (do it before starting threads, which
// inherit the mask) and reads its signals from a signalfd.
class SignalReader {
 public:
  explicit SignalReader(const sigset_t& set);
  int fd() const noexcept { return fd_.get(); }
  int read();  // the next pending signal; 0 when none is pending

 private:
  UniqueFd fd_;
};

}  // namespace vmrt::cli
