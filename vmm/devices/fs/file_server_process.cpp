#include "vmm/devices/fs/file_server_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

#include "common/error.h"
#include "common/process.h"
#include "common/unix_socket.h"
#include "vmm/devices/fs/file_server.h"

namespace vmrt::vmm::fs {

namespace {

// The server is signalled and reaped through a pidfd only: the VMM's
// seccomp filters allow signals to no other process (and a pid could be
// reused; a pidfd cannot).
int pidfd_open(pid_t pid) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }
int pidfd_kill(int pidfd) {
  return static_cast<int>(::syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, nullptr, 0));
}

std::pair<UniqueFd, UniqueFd> seqpacket_pair(const char* what) {
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
    throw_errno(fmt::format("virtio-fs: socketpair for the file server's {}", what));
  return {UniqueFd(sv[0]), UniqueFd(sv[1])};
}

// Waits up to `timeout` for `fd` to become readable; false on timeout.
bool readable_within(int fd, std::chrono::milliseconds timeout) {
  pollfd p{fd, POLLIN, 0};
  for (;;) {
    int n = ::poll(&p, 1, static_cast<int>(timeout.count()));
    if (n >= 0) return n > 0;
    if (errno != EINTR) throw_errno("virtio-fs: poll on the file server");
  }
}

wire::Reply receive_reply(int sock, std::chrono::milliseconds timeout) {
  if (!readable_within(sock, timeout))
    fail("virtio-fs: the file server did not answer within {} ms", timeout.count());
  wire::Reply reply{};
  std::vector<UniqueFd> ignored;  // the server sends none; closed if it did
  size_t n = receive_with_fds(sock, &reply, sizeof reply, ignored);
  if (n == 0) fail("virtio-fs: the file server ended");
  if (n != sizeof reply) fail("virtio-fs: the file server sent a reply of {} bytes", n);
  reply.message[sizeof reply.message - 1] = '\0';
  return reply;
}

}  // namespace

FileServerProcess FileServerProcess::spawn(const fuse::ServerConfig& config,
                                           const std::function<void()>& confine,
                                           FsCounters& counters) {
  auto [commands, server_commands] = seqpacket_pair("commands");
  auto [events, server_events] = seqpacket_pair("events");
  const pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) throw_errno("virtio-fs: cannot fork the file server");
  if (pid == 0) {
    // Dies with the VMM, even one killed before it could close the socket.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    if (::getppid() != parent) ::_exit(1);
    run_file_server(std::move(server_commands), std::move(server_events), config, confine,
                    counters);
  }
  UniqueFd pidfd(pidfd_open(pid));
  if (!pidfd) {
    // Without a pidfd the child cannot be reaped safely later: end it now.
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    throw_errno("virtio-fs: pidfd_open for the file server");
  }
  FileServerProcess process(std::move(commands), std::move(events), std::move(pidfd), pid);
  // The child's ends are closed here, so its death reads as end of file.
  server_commands.reset();
  server_events.reset();
  wire::Reply hello = receive_reply(process.commands_.get(), std::chrono::seconds(30));
  if (!hello.ok) fail("virtio-fs: the file server could not start: {}", hello.message);
  return process;
}

FileServerProcess::~FileServerProcess() {
  if (!pidfd_) return;
  commands_.reset();
  events_.reset();
  // It exits when it reads the end of its command socket; a server stuck in
  // a host file system call is killed instead of holding up the VMM's end.
  if (!reaped_ && !readable_within(pidfd_.get(), std::chrono::seconds(2))) kill();
  status();
  if (!reaped_) {
    siginfo_t info{};
    ::waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(pidfd_.get()), &info, WEXITED);
  }
}

wire::Reply FileServerProcess::call(const wire::Command& cmd, std::span<const int> fds,
                                    std::chrono::milliseconds timeout) {
  if (send_with_fds(commands_.get(), &cmd, sizeof cmd, fds) < 0)
    throw_errno("virtio-fs: cannot reach the file server");
  try {
    return receive_reply(commands_.get(), timeout);
  } catch (const Error&) {
    kill();  // late answers would pair with the wrong command
    throw;
  }
}

std::string FileServerProcess::status(std::chrono::milliseconds wait) {
  if (!pidfd_) return "gone";
  siginfo_t info{};
  if (!reaped_) {
    if (wait.count() > 0) readable_within(pidfd_.get(), wait);
    if (::waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(pidfd_.get()), &info,
                 WEXITED | WNOHANG) != 0 ||
        info.si_pid == 0)
      return "running";
    reaped_ = true;
    exit_ = ExitStatus::from_siginfo(info).to_string();
  }
  return exit_;
}

void FileServerProcess::kill() noexcept {
  if (pidfd_ && !reaped_) pidfd_kill(pidfd_.get());
}

}  // namespace vmrt::vmm::fs
