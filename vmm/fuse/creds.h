#pragma once
// Whose request a host call runs for. Files the guest creates must belong to
// the guest caller (uid, gid, and the group a setgid directory hands down),
// so creating calls run with the thread's filesystem ids switched to the
// caller's; setfsuid/setfsgid act on the calling thread only. Switching
// also drops the thread's filesystem capabilities for the call, so the host
// kernel checks the caller's permissions once more.

#include <sys/types.h>

namespace vmrt::fuse {

class CallerCreds {
 public:
  // No switch when `enabled` is false (a server that cannot: can_switch_creds).
  CallerCreds(bool enabled, uid_t uid, gid_t gid);
  ~CallerCreds();
  CallerCreds(const CallerCreds&) = delete;
  CallerCreds& operator=(const CallerCreds&) = delete;

 private:
  bool switched_ = false;
  uid_t old_uid_ = 0;
  gid_t old_gid_ = 0;
};

// Whether this thread can switch its filesystem ids to any caller's: it has
// CAP_SETUID and CAP_SETGID (root, or a jailed VMM that kept them).
bool can_switch_creds();

// Once per thread: takes root's filesystem ids when the thread can switch
// (can_switch_creds), and gives the thread its own umask, 0, by unsharing its
// filesystem attributes (cwd, root, umask) from the rest of the process. The
// guest kernel has applied the guest caller's umask to every mode it sends,
// and the host's umask must not take more bits away.
void prepare_thread();

}  // namespace vmrt::fuse
