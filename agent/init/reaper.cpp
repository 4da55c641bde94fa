#include "agent/init/reaper.h"

#include <poll.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cstring>

#include "agent/container/container.h"
#include "common/error.h"
#include "common/event_fd.h"

namespace vmrt::agent::init {
namespace {

void reap_and_log() {
  try {
    for (const auto& [pid, status] : reap_children())
      spdlog::debug("reaped orphan {}: {}", pid, status.to_string());
  } catch (const std::exception& e) {
    spdlog::error("reaper: {}", e.what());
  }
}

}  // namespace

Reaper::Reaper()
    : sigchld_({SIGCHLD}),
      stop_(check_sys(::eventfd(0, EFD_CLOEXEC), "eventfd")),
      thread_([this] { run(); }) {}

Reaper::~Reaper() {
  if (!signal_eventfd(stop_.get())) spdlog::error("cannot stop the reaper");
  thread_.join();
}

void Reaper::run() {
  // Children that died before the handler was installed sent no signal it saw.
  reap_and_log();
  pollfd fds[2] = {{stop_.get(), POLLIN, 0}, {sigchld_.fd(), POLLIN, 0}};
  for (;;) {
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      spdlog::critical("reaper: poll: {}", std::strerror(errno));
      return;
    }
    if (fds[0].revents) return;
    // Several SIGCHLDs coalesce into one, so reap_children() loops until no
    // exited child is left rather than counting signals.
    sigchld_.drain();
    reap_and_log();
  }
}

}  // namespace vmrt::agent::init
