#include "agent/container/user.h"

#include <grp.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "agent/container/child.h"
#include "common/error.h"

namespace vmrt::agent {

UserPlan plan_user(const oci::Process& process) {
  UserPlan plan;
  plan.uid = process.user.uid;
  plan.gid = process.user.gid;
  plan.groups.assign(process.user.additional_gids.begin(), process.user.additional_gids.end());
  if (process.user.umask) {
    if (*process.user.umask > 0777)
      fail("process.user.umask: {:o} is not a permission mask", *process.user.umask);
    plan.umask = static_cast<mode_t>(*process.user.umask);
  }
  plan.no_new_privileges = process.no_new_privileges;
  return plan;
}

void switch_user(const Child& child, const UserPlan& plan) {
  // The raw system calls: glibc's wrappers broadcast the change to every
  // thread of the process with a signal-based protocol, which a child cloned
  // from a multithreaded parent must not run.
  if (::syscall(SYS_setgroups, plan.groups.size(), plan.groups.data()) < 0)
    child.fail(Step::Groups);
  if (::prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) child.fail(Step::Uid);
  if (::syscall(SYS_setresgid, plan.gid, plan.gid, plan.gid) < 0) child.fail(Step::Gid);
  if (::syscall(SYS_setresuid, plan.uid, plan.uid, plan.uid) < 0) child.fail(Step::Uid);
  if (::prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0) child.fail(Step::Uid);
  ::umask(plan.umask);
}

void set_no_new_privileges(const Child& child, const UserPlan& plan) {
  if (plan.no_new_privileges && ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    child.fail(Step::NoNewPrivileges);
}

}  // namespace vmrt::agent
