#pragma once
// process.user and process.noNewPrivileges: who the process runs as.

#include <sys/types.h>

#include <optional>
#include <vector>

#include "common/oci/spec.h"

namespace vmrt::agent {

class Child;

struct UserPlan {
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;  // additionalGids, exactly (no /etc/group lookup)
  mode_t umask = 022;
  bool no_new_privileges = false;
};

UserPlan plan_user(const oci::Process& process);

// Child: setgroups, setresgid, setresuid, keeping the permitted capabilities
// across the switch (apply_capabilities sets the final ones).
void switch_user(const Child& child, const UserPlan& plan);
// Child: PR_SET_NO_NEW_PRIVS when asked.
void set_no_new_privileges(const Child& child, const UserPlan& plan);

}  // namespace vmrt::agent
