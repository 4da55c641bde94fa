#pragma once
// A violation of a thread's seccomp filter (SCMP_ACT_TRAP) raises SIGSYS in
// that thread. The reporter writes one line to stderr, the VMM's log,
//   vmrt-vmm: seccomp: thread <role> made forbidden system call <nr> (<name>)
// and then kills the whole process with SIGSYS, so the exit status says so.

#include "vmm/security/roles.h"

namespace vmrt::vmm::security {

// Installs the process-wide SIGSYS handler (the first call builds the table
// of system call names it reports with) and records `role` as the calling
// thread's role. Called by each thread before it loads its filter.
void report_violations_as(ThreadRole role);

}  // namespace vmrt::vmm::security
