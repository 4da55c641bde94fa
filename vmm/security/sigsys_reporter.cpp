#include "vmm/security/sigsys_reporter.h"

#include <seccomp.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "common/error.h"

namespace vmrt::vmm::security {

namespace {

// Names of the x86-64 system calls by number, resolved once before any
// filter exists: the handler may run inside malloc (a forbidden mmap), so it
// must not ask libseccomp, which allocates.
constexpr size_t kNames = 512;
constexpr size_t kNameLen = 32;
std::array<std::array<char, kNameLen>, kNames> g_names{};

// Read by the handler: a thread-local pointer to a string literal, set by
// threads that confine themselves. A thread without one inherited its filter
// from its creator, and only the device role (in the VMM) and the file
// server role (in its own process) may create threads once confined
// (vmm/security/allow_lists.cpp): it has the role of the process's thread
// creators.
thread_local const char* t_role = nullptr;
std::atomic<const char*> g_creator_role{nullptr};

class Line {
 public:
  void add(const char* s) {
    while (*s && len_ < buf_.size()) buf_[len_++] = *s++;
  }
  void add(long number) {
    char digits[24];
    size_t n = 0;
    bool negative = number < 0;
    unsigned long v =
        negative ? 0ul - static_cast<unsigned long>(number) : static_cast<unsigned long>(number);
    do digits[n++] = static_cast<char>('0' + v % 10);
    while ((v /= 10) != 0 && n < sizeof digits);
    if (negative && len_ < buf_.size()) buf_[len_++] = '-';
    while (n > 0 && len_ < buf_.size()) buf_[len_++] = digits[--n];
  }
  void write_to(int fd) const {
    for (size_t off = 0; off < len_;) {
      ssize_t w = ::write(fd, buf_.data() + off, len_ - off);
      if (w <= 0) return;
      off += static_cast<size_t>(w);
    }
  }

 private:
  std::array<char, 192> buf_;
  size_t len_ = 0;
};

// Async-signal-safe: only the stack, the name table and system calls every
// allow list has (write, getpid, gettid, tgkill, exit_group).
void on_sigsys(int, siginfo_t* info, void*) {
  int nr = info->si_syscall;
  Line line;
  line.add("vmrt-vmm: seccomp: thread ");
  const char* creator = g_creator_role.load(std::memory_order_relaxed);
  line.add(t_role ? t_role : creator ? creator : role_name(ThreadRole::Device));
  line.add(" made forbidden system call ");
  line.add(static_cast<long>(nr));
  line.add(" (");
  line.add(nr >= 0 && static_cast<size_t>(nr) < kNames && g_names[static_cast<size_t>(nr)][0]
               ? g_names[static_cast<size_t>(nr)].data()
               : "unknown");
  line.add(")\n");
  line.write_to(STDERR_FILENO);
  // SA_RESETHAND made SIGSYS's action the default again and SA_NODEFER left
  // it unblocked: this kills every thread, with SIGSYS as the exit status.
  // Returning instead would let the thread go on past a refused call.
  ::syscall(SYS_tgkill, ::getpid(), ::gettid(), SIGSYS);
  ::syscall(SYS_exit_group, 128 + SIGSYS);
}

void install_handler() {
  for (size_t nr = 0; nr < kNames; ++nr) {
    char* name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, static_cast<int>(nr));
    if (!name) continue;
    std::strncpy(g_names[nr].data(), name, kNameLen - 1);
    std::free(name);
  }
  struct sigaction sa {};
  sa.sa_sigaction = on_sigsys;
  sa.sa_flags = SA_SIGINFO | SA_RESETHAND | SA_NODEFER;
  sigemptyset(&sa.sa_mask);
  check_sys(sigaction(SIGSYS, &sa, nullptr), "sigaction SIGSYS");
}

}  // namespace

void report_violations_as(ThreadRole role) {
  static std::once_flag once;
  std::call_once(once, install_handler);
  t_role = role_name(role);
  if (role == ThreadRole::Device || role == ThreadRole::FileServer)
    g_creator_role.store(t_role, std::memory_order_relaxed);
  // A blocked SIGSYS would make the kernel kill the process without running
  // the handler (vCPU threads block nearly everything): no report.
  sigset_t sys;
  sigemptyset(&sys);
  sigaddset(&sys, SIGSYS);
  pthread_sigmask(SIG_UNBLOCK, &sys, nullptr);
}

}  // namespace vmrt::vmm::security
