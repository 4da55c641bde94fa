#include "vmm/security/allow_lists.h"

#include <linux/if_tun.h>
#include <linux/kvm.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "vmm/kvm/state_ioctls.h"

namespace vmrt::vmm::security {

namespace {

using Rules = std::vector<SyscallRule>;

void allow(Rules& rules, std::initializer_list<int> nrs) {
  for (int nr : nrs) rules.push_back({nr, {}});
}

// An ioctl with exactly this request number. The request is compared on its
// low 32 bits: the kernel takes it as an unsigned int.
SyscallRule ioctl_request(unsigned long request) {
  return {SCMP_SYS(ioctl), {SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu, request & 0xffffffffu)}};
}

// What every thread does: log (write to stderr), allocate, wait on locks
// and condition variables, read the clock, take the vCPU kick signal, end;
// and what the SIGSYS reporter itself calls (write, getpid, gettid, tgkill,
// exit_group).
void add_common(Rules& rules) {
  allow(rules, {SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(close), SCMP_SYS(futex), SCMP_SYS(brk),
                SCMP_SYS(munmap), SCMP_SYS(madvise), SCMP_SYS(mremap), SCMP_SYS(clock_gettime),
                SCMP_SYS(clock_nanosleep), SCMP_SYS(nanosleep), SCMP_SYS(sched_yield),
                SCMP_SYS(rt_sigreturn), SCMP_SYS(rt_sigprocmask), SCMP_SYS(restart_syscall),
                SCMP_SYS(getpid), SCMP_SYS(gettid), SCMP_SYS(exit), SCMP_SYS(exit_group)});
  // Memory for the allocator and thread stacks, never executable: the VMM
  // maps no code after it has started.
  for (int nr : {SCMP_SYS(mmap), SCMP_SYS(mprotect)})
    rules.push_back({nr, {SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0)}});
  // Signals only to threads of this process (the vCPU kick, the reporter's
  // own SIGSYS).
  rules.push_back(
      {SCMP_SYS(tgkill), {SCMP_A0(SCMP_CMP_EQ, static_cast<scmp_datum_t>(::getpid()))}});
}

// The roles of the VMM proper open no file. The C library still may: malloc
// reads /proc/sys/vm/overcommit_memory the first time a thread's arena could
// shrink. That open is answered "no such file" without running (as it would
// in the jail, which has no procfs), so it is not a violation; any other
// file simply cannot be opened.
void refuse_opening_files(Rules& rules) {
  rules.push_back({SCMP_SYS(openat), {}, SCMP_ACT_ERRNO(ENOENT)});
}

void add_vcpu(Rules& rules) {
  // KVM_RUN, the registers an exit report names (general and, for a fault
  // KVM_RUN itself reports, control registers), and the serial port's
  // interrupt line (KVM_IRQ_LINE on the VM fd). Queue notifications reach
  // the devices through ioeventfds or a write(2) to the queue's eventfd.
  for (unsigned long request :
       std::initializer_list<unsigned long>{KVM_RUN, KVM_GET_REGS, KVM_GET_SREGS, KVM_IRQ_LINE})
    rules.push_back(ioctl_request(request));
}

// Starting a device or the file server's queues starts threads.
void add_threads(Rules& rules) {
  // clone3 keeps its flags in memory, out of a filter's reach: answered
  // ENOSYS, the C library falls back to clone, which may only make threads
  // of this process.
  rules.push_back({SCMP_SYS(clone), {SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD)}});
  rules.push_back({SCMP_SYS(clone3), {}, SCMP_ACT_ERRNO(ENOSYS)});
  allow(rules, {SCMP_SYS(set_robust_list), SCMP_SYS(rseq)});
}

// Event loops over queue eventfds, sockets, the tap and timers, and the
// vectored and positioned reads and writes of device data.
void add_event_io(Rules& rules) {
  allow(rules, {SCMP_SYS(epoll_create1),
                SCMP_SYS(epoll_ctl),
                SCMP_SYS(epoll_wait),
                SCMP_SYS(epoll_pwait),
                SCMP_SYS(poll),
                SCMP_SYS(ppoll),
                SCMP_SYS(eventfd2),
                SCMP_SYS(timerfd_create),
                SCMP_SYS(timerfd_settime),
                SCMP_SYS(timerfd_gettime),
                SCMP_SYS(readv),
                SCMP_SYS(writev),
                SCMP_SYS(pread64),
                SCMP_SYS(pwrite64),
                SCMP_SYS(preadv),
                SCMP_SYS(pwritev),
                SCMP_SYS(preadv2),
                SCMP_SYS(pwritev2),
                SCMP_SYS(fcntl),
                SCMP_SYS(dup)});
}

void add_device(Rules& rules) {
  add_event_io(rules);
  // vsock: hybrid clients on the listening socket, and connections to the
  // host's "<socket>_<port>" listeners: Unix sockets only.
  allow(rules, {SCMP_SYS(accept4), SCMP_SYS(connect), SCMP_SYS(recvfrom), SCMP_SYS(recvmsg),
                SCMP_SYS(sendto), SCMP_SYS(sendmsg), SCMP_SYS(shutdown), SCMP_SYS(getsockopt),
                SCMP_SYS(setsockopt)});
  rules.push_back({SCMP_SYS(socket), {SCMP_A0(SCMP_CMP_EQ, AF_UNIX)}});
  // virtio-net: the guest's offloads are set on the tap when it starts.
  rules.push_back(ioctl_request(TUNSETOFFLOAD));
  // virtio-fs: a file server that stopped answering is killed through its
  // pidfd, and how it ended is logged.
  allow(rules, {SCMP_SYS(pidfd_send_signal), SCMP_SYS(waitid)});
  add_threads(rules);
}

void add_file_server(Rules& rules) {
  add_event_io(rules);
  add_threads(rules);
  // Commands and descriptors from the VMM, failure reports back.
  allow(rules, {SCMP_SYS(recvmsg), SCMP_SYS(sendmsg)});
  // The FUSE passthrough, relative to O_PATH handles inside the shared
  // directory.
  allow(rules, {SCMP_SYS(openat),          SCMP_SYS(openat2),      SCMP_SYS(newfstatat),
                SCMP_SYS(fstat),           SCMP_SYS(statx),        SCMP_SYS(getdents64),
                SCMP_SYS(readlinkat),      SCMP_SYS(mkdirat),      SCMP_SYS(mknodat),
                SCMP_SYS(unlinkat),        SCMP_SYS(renameat),     SCMP_SYS(renameat2),
                SCMP_SYS(linkat),          SCMP_SYS(symlinkat),    SCMP_SYS(fchmod),
                SCMP_SYS(fchmodat),        SCMP_SYS(fchown),       SCMP_SYS(fchownat),
                SCMP_SYS(utimensat),       SCMP_SYS(fallocate),    SCMP_SYS(fsync),
                SCMP_SYS(fdatasync),       SCMP_SYS(lseek),        SCMP_SYS(ftruncate),
                SCMP_SYS(copy_file_range), SCMP_SYS(flock),        SCMP_SYS(statfs),
                SCMP_SYS(fstatfs),         SCMP_SYS(faccessat),    SCMP_SYS(faccessat2),
                SCMP_SYS(getxattr),        SCMP_SYS(lgetxattr),    SCMP_SYS(fgetxattr),
                SCMP_SYS(setxattr),        SCMP_SYS(lsetxattr),    SCMP_SYS(fsetxattr),
                SCMP_SYS(listxattr),       SCMP_SYS(llistxattr),   SCMP_SYS(flistxattr),
                SCMP_SYS(removexattr),     SCMP_SYS(lremovexattr), SCMP_SYS(fremovexattr)});
  // Requests run with the caller's filesystem ids (vmm/fuse/creds.h) and a
  // umask of 0 in the thread's own fs context; a server made anew for a
  // driver that reset the device checks whether it can switch (capget).
  allow(rules, {SCMP_SYS(setfsuid), SCMP_SYS(setfsgid), SCMP_SYS(umask), SCMP_SYS(geteuid),
                SCMP_SYS(getuid), SCMP_SYS(getegid), SCMP_SYS(getgid), SCMP_SYS(capget)});
  rules.push_back({SCMP_SYS(unshare), {SCMP_A0(SCMP_CMP_EQ, CLONE_FS)}});
}

void add_control(Rules& rules) {
  // The main loop: signalfd, the VM's end eventfd, console input, control
  // clients (non-blocking, replies with send(2)).
  allow(rules, {SCMP_SYS(epoll_wait), SCMP_SYS(epoll_pwait), SCMP_SYS(epoll_ctl), SCMP_SYS(accept4),
                SCMP_SYS(recvfrom), SCMP_SYS(sendto), SCMP_SYS(fcntl)});
  // Tear-down removes the control and vsock sockets it created, and ends
  // the virtio-fs file server: its end of file, a wait for its exit, a kill
  // through its pidfd (no signal to any other process), its reaping.
  allow(rules, {SCMP_SYS(unlink), SCMP_SYS(unlinkat), SCMP_SYS(poll), SCMP_SYS(ppoll),
                SCMP_SYS(waitid), SCMP_SYS(pidfd_send_signal)});
}

void add_snapshot(Rules& rules) {
  add_control(rules);
  for (unsigned long request : kSaveStateIoctls) rules.push_back(ioctl_request(request));
  // The snapshot's files (opened at start), emptied, then written sparsely.
  allow(rules, {SCMP_SYS(lseek), SCMP_SYS(pwrite64), SCMP_SYS(ftruncate), SCMP_SYS(fstat),
                SCMP_SYS(newfstatat), SCMP_SYS(fsync), SCMP_SYS(fdatasync)});
}

}  // namespace

std::vector<SyscallRule> allow_list(ThreadRole role) {
  Rules rules;
  add_common(rules);
  switch (role) {
    case ThreadRole::Vcpu:
      add_vcpu(rules);
      refuse_opening_files(rules);
      break;
    case ThreadRole::Device:
      add_device(rules);
      refuse_opening_files(rules);
      break;
    case ThreadRole::Control:
      add_control(rules);
      refuse_opening_files(rules);
      break;
    case ThreadRole::SnapshotControl:
      add_snapshot(rules);
      refuse_opening_files(rules);
      break;
    case ThreadRole::FileServer:
      add_file_server(rules);
      break;
  }
  return rules;
}

}  // namespace vmrt::vmm::security
