#include "agent/init/reaper.h"

#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <utility>

#include "agent/container/container.h"
#include "common/error.h"

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

Reaper::Reaper() : sigchld_({SIGCHLD}), loop_("reaper") {
  // Several SIGCHLDs coalesce into one, so reap_children() loops until no
  // exited child is left rather than counting signals.
  loop_.add(sigchld_.fd(), EPOLLIN, [this](uint32_t) {
    sigchld_.drain();
    reap_and_log();
  });
  loop_.start([first = true]() mutable {
    // Children that died before the handler was installed sent no signal
    // it saw.
    if (std::exchange(first, false)) reap_and_log();
    return -1;
  });
}

Reaper::~Reaper() { loop_.stop_and_join(); }

}  // namespace vmrt::agent::init
