#pragma once
// Acts as code that has taken over a thread of another process: makes the
// thread, stopped in a system call (a VMM's main thread waits in
// epoll_wait), issue system call `nr` with all-zero arguments, through
// ptrace. For tests that a VMM thread's seccomp filter stops what the
// thread's allow list does not have. x86-64 only; needs CAP_SYS_PTRACE.

#include <sys/types.h>

namespace vmrt::test {

// Throws vmrt::Error when the thread cannot be traced or is not sitting
// right after a `syscall` instruction. The tracer detaches before the call
// runs.
void inject_syscall(pid_t tid, long nr);

}  // namespace vmrt::test
