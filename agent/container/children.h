#pragma once
// The processes this library starts: cloned with clone3 (new namespaces, a
// pidfd, straight into their cgroup) and reaped exactly once, either through
// their pidfd or by reap_children() on behalf of a PID 1 caller; a registry
// under one lock makes sure a status reaped by one is found by the other.

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>

#include "common/fd.h"
#include "common/process.h"

namespace vmrt::agent {

struct ExitSlot {
  pid_t pid = -1;
  std::optional<ExitStatus> status;
};

struct Cloned {
  pid_t pid = -1;
  UniqueFd pidfd;
  std::shared_ptr<ExitSlot> slot;
};

// The child runs entry(ctx), which must not return (it execs or _exits) and
// must keep to system calls (see child.h). cgroup_fd < 0: the parent's cgroup.
Cloned clone_child(uint64_t clone_flags, int cgroup_fd, void (*entry)(const void*),
                   const void* ctx);

// Non-blocking: the status once the process has exited, reaping it if no
// one has. Throws when it was reaped behind the registry's back.
std::optional<ExitStatus> collect(ExitSlot& slot, int pidfd);

}  // namespace vmrt::agent
