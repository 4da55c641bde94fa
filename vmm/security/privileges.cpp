#include "vmm/security/privileges.h"

#include <grp.h>
#include <linux/capability.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "common/error.h"

namespace vmrt::vmm::security {

namespace {

// Creating files as the calling guest user (setfsuid/setfsgid), chown and
// chmod of files that user owns in the guest's view, and reading and
// writing regardless of host permission bits (the guest kernel has already
// checked them against the guest's users). Not CAP_MKNOD: the server
// refuses device nodes (FIFOs and sockets need no capability).
constexpr cap_value_t kFileServerCaps[] = {
    CAP_CHOWN,  CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER,
    CAP_FSETID, CAP_SETUID,       CAP_SETGID,
};

struct CapState {
  cap_t caps = cap_init();
  ~CapState() { cap_free(caps); }
};

}  // namespace

uint64_t file_server_capabilities() {
  uint64_t bits = 0;
  for (cap_value_t c : kFileServerCaps) bits |= uint64_t(1) << c;
  return bits;
}

void drop_privileges(const Identity& who) {
  const uint64_t keep = who.file_server ? file_server_capabilities() : 0;
  // The kernel forgets the parent-death signal when the ids change; the
  // spawner's (a VMM must not outlive its runtime) is set again after.
  int death_signal = 0;
  check_sys(::prctl(PR_GET_PDEATHSIG, &death_signal, 0, 0, 0), "prctl(PR_GET_PDEATHSIG)");
  // The bounding set first: dropping from it needs CAP_SETPCAP, which goes
  // with the rest below.
  for (cap_value_t c = 0; c <= CAP_LAST_CAP; ++c)
    if (!(keep & (uint64_t(1) << c)) && CAP_IS_SUPPORTED(c) && cap_drop_bound(c) != 0)
      throw_errno(fmt::format("cannot drop capability {} from the bounding set", c));
  check_sys(::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0),
            "cannot clear the ambient capabilities");
  // Keep the permitted set across the uid change, to keep what is kept.
  check_sys(::prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0), "prctl(PR_SET_KEEPCAPS)");
  check_sys(::setgroups(0, nullptr), "cannot drop the supplementary groups");
  check_sys(::setresgid(who.gid, who.gid, who.gid), fmt::format("cannot become gid {}", who.gid));
  check_sys(::setresuid(who.uid, who.uid, who.uid), fmt::format("cannot become uid {}", who.uid));
  check_sys(::prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0), "prctl(PR_SET_KEEPCAPS)");
  CapState state;
  for (cap_value_t c : kFileServerCaps) {
    if (!(keep & (uint64_t(1) << c))) continue;
    if (cap_set_flag(state.caps, CAP_PERMITTED, 1, &c, CAP_SET) != 0 ||
        cap_set_flag(state.caps, CAP_EFFECTIVE, 1, &c, CAP_SET) != 0)
      throw_errno("cap_set_flag");
  }
  if (cap_set_proc(state.caps) != 0) throw_errno("cannot set the VMM's capabilities");
  check_sys(::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl(PR_SET_NO_NEW_PRIVS)");
  // (A runtime that died in the few instructions since setresuid goes
  // unnoticed: in its own pid namespace the VMM cannot ask for its parent.)
  if (death_signal != 0)
    check_sys(::prctl(PR_SET_PDEATHSIG, death_signal, 0, 0, 0), "prctl(PR_SET_PDEATHSIG)");
}

}  // namespace vmrt::vmm::security
