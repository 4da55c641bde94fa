#include "vmm/fuse/creds.h"

#include <sched.h>
#include <spdlog/spdlog.h>
#include <sys/fsuid.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>

namespace vmrt::fuse {

CallerCreds::CallerCreds(bool enabled, uid_t uid, gid_t gid) {
  // The common case of a root caller needs no switch: the server's own
  // filesystem ids are root's.
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

void prepare_thread() {
  thread_local bool prepared = false;
  if (prepared) return;
  prepared = true;
  if (unshare(CLONE_FS) != 0) {
    // Then the process umask stays in force: created files may lose bits.
    SPDLOG_WARN("fuse: unshare(CLONE_FS) failed, the host umask applies: {}", strerror(errno));
    return;
  }
  umask(0);
}

}  // namespace vmrt::fuse
