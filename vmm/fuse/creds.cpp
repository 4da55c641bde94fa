#include "vmm/fuse/creds.h"

#include <linux/capability.h>
#include <sched.h>
#include <spdlog/spdlog.h>
#include <sys/fsuid.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace vmrt::fuse {

CallerCreds::CallerCreds(bool enabled, uid_t uid, gid_t gid) {
  // The common case of a root caller needs no switch: a server that can
  // switch works with root's filesystem ids (prepare_thread).
  if (!enabled || (uid == 0 && gid == 0)) return;
  old_gid_ = static_cast<gid_t>(setfsgid(gid));
  old_uid_ = static_cast<uid_t>(setfsuid(uid));
  switched_ = true;
}

CallerCreds::~CallerCreds() {
  if (!switched_) return;
  setfsuid(old_uid_);
  setfsgid(old_gid_);
}

bool can_switch_creds() {
  __user_cap_header_struct header{.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
  if (syscall(SYS_capget, &header, data) != 0) return false;
  auto effective = [&](int cap) { return data[cap / 32].effective & (1u << (cap % 32)); };
  return effective(CAP_SETUID) && effective(CAP_SETGID);
}

void prepare_thread() {
  thread_local bool prepared = false;
  if (prepared) return;
  prepared = true;
  // A jailed VMM runs as an unprivileged uid that kept the file
  // capabilities: its server threads take root's filesystem ids, which is
  // what the guest's root is, and which keeps those capabilities effective
  // (the kernel drops them whenever the fsuid leaves 0, and raises them
  // again when it returns).
  if (can_switch_creds()) {
    setfsgid(0);
    setfsuid(0);
  }
  if (unshare(CLONE_FS) != 0) {
    // Then the process umask stays in force: created files may lose bits.
    SPDLOG_WARN("fuse: unshare(CLONE_FS) failed, the host umask applies: {}", strerror(errno));
    return;
  }
  umask(0);
}

}  // namespace vmrt::fuse
