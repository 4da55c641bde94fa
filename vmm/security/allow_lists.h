#pragma once
// What each thread role of vmrt-vmm may ask of the kernel. Everything else
// is a violation (vmm/security/confine.h decides what a violation does).

#include <seccomp.h>

#include <cstdint>
#include <vector>

#include "vmm/security/roles.h"

namespace vmrt::vmm::security {

struct SyscallRule {
  int nr;
  // Every comparison must hold; none means any arguments. Several rules for
  // one system call are alternatives.
  std::vector<scmp_arg_cmp> args;
  // SCMP_ACT_ALLOW, or an errno answer for calls the C library has a
  // fallback for (clone3 -> clone, whose flags a filter can check).
  uint32_t action = SCMP_ACT_ALLOW;
};

// The rules of `role` for the calling process (tgkill is limited to its own
// pid, so the list is built in the process that installs it).
std::vector<SyscallRule> allow_list(ThreadRole role);

}  // namespace vmrt::vmm::security
