#pragma once
// The child side of container setup. Between clone and execve the child is a
// copy of a possibly multithreaded parent (the agent serves ttrpc on several
// threads), so it makes system calls only: no allocation, no locks, no
// exceptions, no logging. Everything it needs was computed by the parent into
// a plan of plain strings and numbers. A failing step is reported to the
// parent as (step, index, errno) over the sync socket, and the parent turns
// that into a message with the plan's names (plan.cpp: describe).

#include <cstdint>

namespace vmrt::agent {

// What the child was doing. Index (where one applies) points into the plan's
// list for that step: the mount, the device, the rlimit ...
enum class Step : int32_t {
  Ready,  // not a failure: setup is done, waiting for start
  Undumpable,
  Fds,
  JoinNamespace,
  RootPropagation,
  RootBind,
  OverlayTmpfs,
  OverlayDirs,
  Overlay,
  MountTarget,
  Mount,
  MountRemount,
  MountPropagation,
  MountCopyUp,
  Device,
  DevSymlink,
  PivotRoot,
  MaskedPath,
  ReadonlyPath,
  RootReadonly,
  Hostname,
  Domainname,
  Sysctl,
  OomScoreAdj,
  Rlimit,
  Terminal,
  Stdio,
  Cwd,
  Bounding,
  Groups,
  Gid,
  Uid,
  Capabilities,
  Ambient,
  NoNewPrivileges,
  Seccomp,
  WaitStart,
  Exec,
};

struct ChildReport {
  Step step = Step::Ready;
  int32_t index = -1;
  int32_t err = 0;
};

// The child's end of the sync socket (SOCK_SEQPACKET, close-on-exec: a
// successful execve closes it, which the parent reads as success).
class Child {
 public:
  explicit Child(int channel) : channel_(channel) {}
  int channel() const { return channel_; }
  // Reports the failure of `step` with the current errno and exits.
  [[noreturn]] void fail(Step step, int index = -1) const;
  [[noreturn]] void fail_with(Step step, int index, int err) const;
  // Tells the parent setup is done, then blocks until it says "start" (or
  // closes its end: the container is being destroyed, exit quietly).
  void ready_and_wait() const;
  // Hands a descriptor (the pty master) to the parent.
  void send_fd(int fd, Step step) const;

 private:
  int channel_;
};

// The child's first step: not dumpable, as runc's init. Until execve the
// child is a copy of the agent, yet it joins the container's namespaces and
// drops to the container's user and capabilities (seccomp comes last, or
// never): dumpable, a root process of the container could ptrace it or
// read and write its memory through /proc. execve of the program makes it
// dumpable again (set-id programs aside), which is what the program expects.
void make_undumpable(const Child& child);

// "/proc/self/fd/N" in a fixed buffer, to act on what an O_PATH descriptor
// names (mount targets resolved inside the rootfs).
class FdPath {
 public:
  explicit FdPath(int fd);
  const char* c_str() const { return buf_; }

 private:
  char buf_[32];
};

// Closes every descriptor except those in keep[0..n) (any order, -1 entries
// ignored): the child must not hold copies of the agent's descriptors (other
// containers' pipes and sync sockets) while it waits for start.
bool close_fds_except(const int* keep, int n);

// openat2(dirfd, path, flags | O_CLOEXEC, RESOLVE_IN_ROOT): symlinks and ".."
// in `path` resolve as if dirfd were "/", so a hostile rootfs cannot point a
// mount target outside itself.
int open_in_root(int rootfd, const char* path, int flags);

}  // namespace vmrt::agent
