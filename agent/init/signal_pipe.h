#pragma once
// Signals as readable file descriptors, through handlers that write to a
// pipe. Not signalfd: that needs the signals blocked, and a blocked mask is
// inherited by every container process the agent starts, through execve.
// A caught signal, unlike a blocked or ignored one, reverts to its default
// action on execve, so container processes start clean.

#include <initializer_list>
#include <vector>

#include "common/fd.h"

namespace vmrt::agent::init {

class SignalPipe {
 public:
  // Installs handlers (SA_RESTART) for `signals`; at most one SignalPipe per
  // signal at a time.
  explicit SignalPipe(std::initializer_list<int> signals);
  SignalPipe(const SignalPipe&) = delete;
  SignalPipe& operator=(const SignalPipe&) = delete;
  // Restores the default actions.
  ~SignalPipe();

  // Readable after one of the signals arrived; drain() empties it.
  int fd() const noexcept { return read_.get(); }
  // Reads what is pending; returns the last signal seen, 0 for none.
  int drain();

 private:
  std::vector<int> signals_;
  UniqueFd read_, write_;
};

// SIGPIPE is caught and dropped: a write to a container's closed stdin then
// fails with EPIPE instead of killing the agent, and the container's own
// processes still get the default action.
void catch_sigpipe();

}  // namespace vmrt::agent::init
