#pragma once
// The identity the VMM runs under once its devices are open: an
// unprivileged uid and gid, no supplementary groups, no way to gain
// privileges again (empty bounding set outside what is kept, no ambient or
// inheritable capabilities, no_new_privs), and no capability at all; only
// the virtio-fs file server process keeps the file capabilities a
// passthrough server needs to act as the guest's users on the shared
// directory (as virtiofsd keeps).
//
// Capabilities belong to threads: call this before the VMM starts any
// thread (those started afterwards inherit the result).

#include <sys/types.h>

#include <cstdint>

namespace vmrt::vmm::security {

struct Identity {
  uid_t uid = 65534;
  gid_t gid = 65534;
  bool file_server = false;  // keep the virtio-fs capabilities (its process only)
};

// The capabilities a virtio-fs passthrough server keeps, as a bit set.
uint64_t file_server_capabilities();

// Becomes `who`, keeping the parent-death signal the VMM was started with;
// throws vmrt::Error naming the step the kernel refused.
void drop_privileges(const Identity& who);

}  // namespace vmrt::vmm::security
