#include "agent/container/init.h"

#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

namespace vmrt::agent {

namespace {

// Dispositions and the mask are inherited from whichever agent thread
// cloned us; the program must start with the defaults (an ignored signal
// would stay ignored across execve).
void reset_signals() {
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) ::sigaction(sig, &dfl, nullptr);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
}

void keep_only(const Child& child, const PreparedStdio& stdio, int extra1, int extra2,
               const std::vector<UniqueFd>* more) {
  int keep[16];
  int n = 0;
  keep[n++] = child.channel();
  for (int fd : stdio.source) keep[n++] = fd;
  keep[n++] = extra1;
  keep[n++] = extra2;
  if (more)
    for (const UniqueFd& fd : *more)
      if (n < 16) keep[n++] = fd.get();
  if (!close_fds_except(keep, n)) child.fail(Step::Fds);
}

// The process part, common to init and exec, in runc's order.
[[noreturn]] void become_process(const Child& child, const ProcessPlan& p,
                                 const PreparedStdio& stdio, const ExecArgs& exec,
                                 bool wait_start) {
  set_oom_score_adj(child, p);
  apply_rlimits(child, p.rlimits);
  int slave = -1;
  if (p.terminal) open_terminal(child, p, &slave);
  set_no_new_privileges(child, p.user);
  // Without no_new_privs, loading a filter needs CAP_SYS_ADMIN: before the
  // capabilities go. With it, as late as possible.
  bool late_seccomp = p.seccomp && p.user.no_new_privileges;
  if (p.seccomp && !late_seccomp) load_seccomp(child, *p.seccomp);
  drop_bounding(child, p.capabilities);
  switch_user(child, p.user);
  apply_capabilities(child, p.capabilities);
  change_dir(child, p);
  install_stdio(child, stdio, slave);
  if (wait_start) child.ready_and_wait();
  if (late_seccomp) load_seccomp(child, *p.seccomp);
  exec_process(child, p, exec);
}

}  // namespace

void container_init(const void* ctx) {
  const InitContext& c = *static_cast<const InitContext*>(ctx);
  Child child(c.channel);
  make_undumpable(child);
  reset_signals();
  ::umask(0);  // device nodes get exactly their modes; the process's umask comes later
  keep_only(child, *c.stdio, -1, -1, c.namespace_fds);
  join_namespaces(child, c.plan->namespaces, *c.namespace_fds);
  int rootfd = setup_rootfs(child, c.plan->mounts);
  enter_rootfs(child, rootfd);
  // Sysctls before finish_rootfs makes /proc/sys read-only (readonlyPaths),
  // in runc's order: podman's default spec has both.
  apply_uts(child, c.plan->uts);
  finish_rootfs(child, c.plan->mounts);
  become_process(child, c.plan->process, *c.stdio, *c.exec, true);
}

void exec_child(const void* ctx) {
  const ExecContext& c = *static_cast<const ExecContext*>(ctx);
  Child child(c.channel);
  make_undumpable(child);
  reset_signals();
  keep_only(child, *c.stdio, c.init_pidfd, c.init_root, nullptr);
  // One call enters them all. Joining a mount namespace puts us at its
  // root mount, which is the container's root only when the agent's root
  // was the namespace's (not so for an agent in a chroot): take the init's.
  if (::setns(c.init_pidfd, c.namespace_flags) < 0) child.fail(Step::JoinNamespace);
  if (::fchdir(c.init_root) < 0 || ::chroot(".") < 0 || ::chdir("/") < 0)
    child.fail(Step::JoinNamespace);
  ::close(c.init_pidfd);
  ::close(c.init_root);
  become_process(child, *c.plan, *c.stdio, *c.exec, false);
}

// Only the process part that does not confine: the caller's namespaces,
// user and capabilities stay.
void outside_child(const void* ctx) {
  const OutsideContext& c = *static_cast<const OutsideContext*>(ctx);
  Child child(c.channel);
  reset_signals();
  ::umask(022);
  keep_only(child, *c.stdio, -1, -1, nullptr);
  int slave = -1;
  if (c.plan->terminal) open_terminal(child, *c.plan, &slave);
  change_dir(child, *c.plan);
  install_stdio(child, *c.stdio, slave);
  exec_process(child, *c.plan, *c.exec);
}

}  // namespace vmrt::agent
