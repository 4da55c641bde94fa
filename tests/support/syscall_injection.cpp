#include "tests/support/syscall_injection.h"

#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/wait.h>

#include <cerrno>

#include "common/error.h"

namespace vmrt::test {

void inject_syscall(pid_t tid, long nr) {
  if (::ptrace(PTRACE_SEIZE, tid, nullptr, nullptr) != 0)
    throw_errno(fmt::format("ptrace(PTRACE_SEIZE) of thread {}", tid));
  struct Detach {
    pid_t tid;
    ~Detach() { ::ptrace(PTRACE_DETACH, tid, nullptr, nullptr); }
  } detach{tid};
  if (::ptrace(PTRACE_INTERRUPT, tid, nullptr, nullptr) != 0)
    throw_errno(fmt::format("ptrace(PTRACE_INTERRUPT) of thread {}", tid));
  int status = 0;
  if (::waitpid(tid, &status, __WALL) != tid || !WIFSTOPPED(status))
    throw_errno(fmt::format("waiting for thread {} to stop", tid));
  user_regs_struct regs{};
  if (::ptrace(PTRACE_GETREGS, tid, nullptr, &regs) != 0)
    throw_errno(fmt::format("ptrace(PTRACE_GETREGS) of thread {}", tid));
  // Interrupted in a system call, the thread's rip follows its 2-byte
  // `syscall` (0f 05): back to it, with the new number, and no restart of
  // the interrupted call (orig_rax -1).
  errno = 0;
  long word = ::ptrace(PTRACE_PEEKTEXT, tid, reinterpret_cast<void*>(regs.rip - 2), nullptr);
  if (errno != 0) throw_errno(fmt::format("reading thread {}'s code", tid));
  if ((word & 0xffff) != 0x050f)
    fail("thread {} is not stopped right after a syscall instruction (rip {:#x})", tid, regs.rip);
  regs.rip -= 2;
  regs.rax = static_cast<unsigned long long>(nr);
  regs.orig_rax = ~0ull;
  regs.rdi = regs.rsi = regs.rdx = regs.r10 = regs.r8 = regs.r9 = 0;
  if (::ptrace(PTRACE_SETREGS, tid, nullptr, &regs) != 0)
    throw_errno(fmt::format("ptrace(PTRACE_SETREGS) of thread {}", tid));
}

}  // namespace vmrt::test
