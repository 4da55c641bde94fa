#pragma once
// The agent reaps every child that dies: as PID 1 every orphan in the guest
// becomes its child, and elsewhere it is a child subreaper for the processes
// its containers leave behind. Reaping goes through the container library's
// reap_children(), which keeps the statuses of container processes for their
// Process::wait() and hands back the rest; those are logged here.

#include "agent/init/signal_pipe.h"
#include "common/event_loop.h"

namespace vmrt::agent::init {

class Reaper {
 public:
  Reaper();  // catches SIGCHLD from now on
  Reaper(const Reaper&) = delete;
  Reaper& operator=(const Reaper&) = delete;
  ~Reaper();

 private:
  SignalPipe sigchld_;
  EventLoop loop_;
};

}  // namespace vmrt::agent::init
