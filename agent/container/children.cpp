#include "agent/container/children.h"

#include <linux/sched.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <map>
#include <mutex>

#include "agent/container/container.h"
#include "common/error.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

namespace vmrt::agent {

namespace {

std::mutex g_mutex;
std::map<pid_t, std::shared_ptr<ExitSlot>> g_live;  // started and not yet reaped

}  // namespace

Cloned clone_child(uint64_t clone_flags, int cgroup_fd, void (*entry)(const void*),
                   const void* ctx) {
  int pidfd = -1;
  clone_args args{};
  args.flags = clone_flags | CLONE_PIDFD;
  args.pidfd = reinterpret_cast<uintptr_t>(&pidfd);
  args.exit_signal = SIGCHLD;
  if (cgroup_fd >= 0) {
    args.flags |= CLONE_INTO_CGROUP;
    args.cgroup = static_cast<uint64_t>(cgroup_fd);
  }
  // Held until the pid is registered: a reap_children() in between would
  // otherwise take the status of a process nobody knows yet.
  std::lock_guard lock(g_mutex);
  long pid = ::syscall(SYS_clone3, &args, sizeof args);
  if (pid == 0) {
    entry(ctx);
    _exit(127);
  }
  if (pid < 0) throw_errno("clone3");
  Cloned c;
  c.pid = static_cast<pid_t>(pid);
  c.pidfd.reset(pidfd);
  c.slot = std::make_shared<ExitSlot>();
  c.slot->pid = c.pid;
  g_live[c.pid] = c.slot;
  return c;
}

std::optional<ExitStatus> collect(ExitSlot& slot, int pidfd) {
  std::lock_guard lock(g_mutex);
  if (slot.status) return slot.status;
  siginfo_t info{};
  if (::waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(pidfd), &info, WEXITED | WNOHANG) <
      0) {
    if (errno == EINTR) return std::nullopt;
    if (errno == ECHILD)
      fail(
          "process {} was reaped by someone else (SIGCHLD ignored, or a waitpid(-1) that is "
          "not reap_children()?)",
          slot.pid);
    throw_errno(fmt::format("waitid for process {}", slot.pid));
  }
  if (info.si_pid == 0) return std::nullopt;
  slot.status = ExitStatus::from_siginfo(info);
  g_live.erase(slot.pid);
  return slot.status;
}

std::vector<std::pair<pid_t, ExitStatus>> reap_children() {
  std::vector<std::pair<pid_t, ExitStatus>> others;
  std::lock_guard lock(g_mutex);
  for (;;) {
    siginfo_t info{};
    if (::waitid(P_ALL, 0, &info, WEXITED | WNOHANG) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (info.si_pid == 0) break;
    ExitStatus status = ExitStatus::from_siginfo(info);
    if (auto it = g_live.find(info.si_pid); it != g_live.end()) {
      it->second->status = status;
      g_live.erase(it);
    } else {
      others.emplace_back(info.si_pid, status);
    }
  }
  return others;
}

// Process, whose statuses live here.

Process::~Process() {
  if (!exit_ || exit_->status) return;
  try {
    signal(SIGKILL);
    wait();
  } catch (const Error&) {
  }
}

void Process::signal(int sig) {
  if (exit_->status) return;
  if (::syscall(SYS_pidfd_send_signal, pidfd_.get(), sig, nullptr, 0) < 0 && errno != ESRCH)
    throw_errno(fmt::format("cannot send signal {} to process {}", sig, pid_));
}

std::optional<ExitStatus> Process::try_wait() { return collect(*exit_, pidfd_.get()); }

ExitStatus Process::wait() {
  for (;;) {
    if (auto s = try_wait()) return *s;
    pollfd p{pidfd_.get(), POLLIN, 0};
    if (::poll(&p, 1, -1) < 0 && errno != EINTR) throw_errno("poll on a pidfd");
  }
}

void Process::resize_terminal(uint16_t rows, uint16_t cols) {
  if (!stdio_.terminal) fail("process {} has no terminal", pid_);
  winsize ws{};
  ws.ws_row = rows;
  ws.ws_col = cols;
  check_sys(::ioctl(stdio_.terminal.get(), TIOCSWINSZ, &ws), "resizing the terminal");
}

}  // namespace vmrt::agent
