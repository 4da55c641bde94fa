// The per-role seccomp filters: libseccomp accepts every list, and a thread
// confined with one dies of SIGSYS on a call outside it, after the reporter
// named its role and the call on stderr. Each confinement happens in a forked
// child, so this process stays unconfined.
#include "vmm/security/confine.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "common/fd.h"
#include "common/tempdir.h"

namespace vmrt::vmm::security {
namespace {

struct ChildResult {
  int status = 0;
  std::string err;
};

// Runs `body` on a thread of a forked child (as the VMM's threads do: never
// its main thread) with stderr captured; the child exits 0 when `body`
// returns.
ChildResult run_in_child(const std::function<void()>& body) {
  int p[2];
  if (pipe2(p, O_CLOEXEC) != 0) ADD_FAILURE() << "pipe2";
  pid_t pid = fork();
  if (pid == 0) {
    dup2(p[1], STDERR_FILENO);
    std::thread t([&] {
      try {
        body();
      } catch (const std::exception& e) {
        (void)!write(STDERR_FILENO, e.what(), strlen(e.what()));
        _exit(100);
      }
    });
    t.join();
    _exit(0);
  }
  close(p[1]);
  ChildResult r;
  char buf[512];
  for (ssize_t n; (n = read(p[0], buf, sizeof buf)) > 0;) r.err.append(buf, static_cast<size_t>(n));
  close(p[0]);
  waitpid(pid, &r.status, 0);
  return r;
}

bool killed_by_sigsys(int status) { return WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS; }

TEST(Seccomp, EveryRoleListCompilesInEveryMode) {
  for (ThreadRole role : {ThreadRole::Vcpu, ThreadRole::Device, ThreadRole::Control,
                          ThreadRole::SnapshotControl, ThreadRole::FileServer})
    for (SeccompMode mode : {SeccompMode::On, SeccompMode::Log}) {
      FilterContext ctx = compile_filter(role, mode);
      UniqueFd null(open("/dev/null", O_WRONLY | O_CLOEXEC));
      EXPECT_EQ(seccomp_export_bpf(ctx.get(), null.get()), 0) << role_name(role);
    }
}

TEST(Seccomp, ModesParse) {
  EXPECT_EQ(parse_seccomp_mode("on"), SeccompMode::On);
  EXPECT_EQ(parse_seccomp_mode("off"), SeccompMode::Off);
  EXPECT_EQ(parse_seccomp_mode("log"), SeccompMode::Log);
  EXPECT_EQ(parse_seccomp_mode("yes"), std::nullopt);
}

TEST(Seccomp, VcpuThreadOpeningAnInetSocketDiesAndIsReported) {
  ChildResult r = run_in_child([] {
    confine_thread(ThreadRole::Vcpu, SeccompMode::On);
    socket(AF_INET, SOCK_STREAM, 0);
  });
  EXPECT_TRUE(killed_by_sigsys(r.status)) << "status " << r.status << ": " << r.err;
  EXPECT_NE(r.err.find("vmrt-vmm: seccomp: thread vcpu made forbidden system call " +
                       std::to_string(SYS_socket) + " (socket)\n"),
            std::string::npos)
      << r.err;
}

TEST(Seccomp, PtraceIsForbiddenToEveryRole) {
  for (ThreadRole role : {ThreadRole::Vcpu, ThreadRole::Device, ThreadRole::Control,
                          ThreadRole::SnapshotControl, ThreadRole::FileServer}) {
    ChildResult r = run_in_child([role] {
      confine_thread(role, SeccompMode::On);
      ptrace(PTRACE_TRACEME, 0, nullptr, nullptr);
    });
    EXPECT_TRUE(killed_by_sigsys(r.status)) << role_name(role) << ": " << r.err;
    EXPECT_NE(r.err.find(std::string("thread ") + role_name(role) + " made forbidden system call " +
                         std::to_string(SYS_ptrace) + " (ptrace)"),
              std::string::npos)
        << r.err;
  }
}

TEST(Seccomp, ExecutableMappingsAreForbidden) {
  ChildResult r = run_in_child([] {
    confine_thread(ThreadRole::Device, SeccompMode::On);
    void* p = mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) _exit(1);
    mprotect(p, 4096, PROT_READ | PROT_EXEC);
  });
  EXPECT_TRUE(killed_by_sigsys(r.status)) << r.err;
  EXPECT_NE(r.err.find("(mprotect)"), std::string::npos) << r.err;
}

TEST(Seccomp, VcpuThreadMayNotIssueOtherKvmIoctls) {
  ChildResult r = run_in_child([] {
    confine_thread(ThreadRole::Vcpu, SeccompMode::On);
    ioctl(-1, 0xae01 /* KVM_CREATE_VM */, 0);
  });
  EXPECT_TRUE(killed_by_sigsys(r.status)) << r.err;
  EXPECT_NE(r.err.find("(ioctl)"), std::string::npos) << r.err;
}

// What a device thread does: start threads (clone3 refused, clone with
// thread flags allowed), Unix sockets, eventfds, locks.
TEST(Seccomp, DeviceThreadsStartThreadsAndUseUnixSocketsButNoInetSockets) {
  ChildResult ok = run_in_child([] {
    confine_thread(ThreadRole::Device, SeccompMode::On);
    std::mutex mu;
    int sum = 0;
    std::thread t([&] {
      std::lock_guard lock(mu);
      UniqueFd s(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
      if (s) sum += 1;
    });
    t.join();
    if (sum != 1) _exit(2);
  });
  EXPECT_TRUE(WIFEXITED(ok.status) && WEXITSTATUS(ok.status) == 0)
      << "status " << ok.status << ": " << ok.err;

  ChildResult bad = run_in_child([] {
    confine_thread(ThreadRole::Device, SeccompMode::On);
    socket(AF_INET6, SOCK_DGRAM, 0);
  });
  EXPECT_TRUE(killed_by_sigsys(bad.status)) << bad.err;
  EXPECT_NE(bad.err.find("thread device made forbidden system call"), std::string::npos) << bad.err;
}

// The FUSE passthrough's calls as the C library makes them: rename(3)
// without flags is renameat, not renameat2.
TEST(Seccomp, FileServerThreadsCreateRenameAndRemoveFiles) {
  TempDir dir("seccomp-test");
  ChildResult r = run_in_child([&] {
    confine_thread(ThreadRole::FileServer, SeccompMode::On);
    UniqueFd d(open(dir.path().c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    UniqueFd f(openat(d.get(), "a", O_CREAT | O_WRONLY | O_CLOEXEC, 0600));
    if (!f || renameat(d.get(), "a", d.get(), "b") != 0 || unlinkat(d.get(), "b", 0) != 0) _exit(4);
  });
  EXPECT_TRUE(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0)
      << "status " << r.status << ": " << r.err;
}

// Only the file server process opens host files: the VMM's threads cannot,
// so a device emulation bug cannot reach a host file. The open is answered
// ENOENT rather than killing the VMM: the C library's malloc opens a /proc
// file on its own now and then.
TEST(Seccomp, VmmThreadsOpenNoFiles) {
  TempDir dir("seccomp-test");
  for (ThreadRole role : {ThreadRole::Vcpu, ThreadRole::Device, ThreadRole::Control}) {
    ChildResult r = run_in_child([&] {
      confine_thread(role, SeccompMode::On);
      int fd =
          openat(AT_FDCWD, (dir.path() / "made").c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
      if (fd >= 0 || errno != ENOENT) _exit(3);
      fd = openat(AT_FDCWD, "/etc/passwd", O_RDONLY | O_CLOEXEC);
      if (fd >= 0 || errno != ENOENT) _exit(4);
    });
    EXPECT_TRUE(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0)
        << role_name(role) << ": status " << r.status << ": " << r.err;
    EXPECT_FALSE(std::filesystem::exists(dir.path() / "made")) << role_name(role);
  }
}

// A thread created by a confined thread keeps its creator's filter, and is
// reported as a device thread: the only role that may create threads.
TEST(Seccomp, ThreadsInheritTheirCreatorsFilter) {
  ChildResult r = run_in_child([] {
    confine_thread(ThreadRole::Device, SeccompMode::On);
    std::thread([] { socket(AF_INET, SOCK_STREAM, 0); }).join();
  });
  EXPECT_TRUE(killed_by_sigsys(r.status)) << r.err;
  EXPECT_NE(r.err.find("thread device made forbidden system call " + std::to_string(SYS_socket)),
            std::string::npos)
      << r.err;
}

// The C library blocks every signal around clone, and the kernel kills a
// thread that violates its filter with SIGSYS blocked without running the
// handler: the VMM still dies of SIGSYS, only without the report line.
TEST(Seccomp, ControlThreadMayNotStartThreads) {
  ChildResult r = run_in_child([] {
    confine_thread(ThreadRole::Control, SeccompMode::On);
    std::thread([] {}).join();
  });
  EXPECT_TRUE(killed_by_sigsys(r.status)) << "status " << r.status << ": " << r.err;
}

TEST(Seccomp, LogModeLetsForbiddenCallsThrough) {
  ChildResult r = run_in_child([] {
    confine_thread(ThreadRole::Vcpu, SeccompMode::Log);
    UniqueFd s(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!s) _exit(3);
  });
  EXPECT_TRUE(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0)
      << "status " << r.status << ": " << r.err;
}

TEST(Seccomp, OffInstallsNothing) {
  ChildResult r = run_in_child([] {
    confine_thread(ThreadRole::Vcpu, SeccompMode::Off);
    UniqueFd s(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!s) _exit(3);
  });
  EXPECT_TRUE(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0) << r.err;
}

}  // namespace
}  // namespace vmrt::vmm::security
