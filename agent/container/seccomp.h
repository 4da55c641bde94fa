#pragma once
// linux.seccomp: translated into libseccomp rules and compiled to a BPF
// program by the parent; the child only loads the program.

#include <linux/filter.h>
#include <seccomp.h>

#include <cstdint>
#include <string>
#include <vector>

#include "common/oci/spec.h"

namespace vmrt::agent {

class Child;

struct SeccompRule {
  std::string syscall;
  int nr = 0;                      // on the native architecture
  uint32_t action = 0;             // SCMP_ACT_*
  std::vector<scmp_arg_cmp> args;  // all must match (AND)
};

struct SeccompPlan {
  uint32_t default_action = 0;
  std::vector<uint32_t> architectures;  // SCMP_ARCH_* besides the native one
  unsigned int flags = 0;               // SECCOMP_FILTER_FLAG_*
  // One rule per (syscall, argument set). A syscall with several conditions
  // on the same argument becomes one rule per condition (any matches), as
  // in runc, since one libseccomp rule cannot test an argument twice.
  std::vector<SeccompRule> rules;
  std::vector<std::string> unknown;  // names this libseccomp does not know: skipped
  std::vector<sock_filter> program;
};

// Throws vmrt::Error naming the field, e.g.
//   linux.seccomp.syscalls[1].args[0].index: 6 is not an argument (0..5)
SeccompPlan plan_seccomp(const oci::Seccomp& seccomp);

// Child: installs the program. Without no_new_privs this needs CAP_SYS_ADMIN,
// hence the order in init.cpp.
void load_seccomp(const Child& child, const SeccompPlan& plan);

}  // namespace vmrt::agent
