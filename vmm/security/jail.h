#pragma once
// The VMM's jail, in the manner of Firecracker's jailer but set up by the
// VMM itself as its first step, before it opens anything: a mount and an IPC
// namespace of its own whose root is a directory holding only what the
// configuration names (the kernel and initrd read-only, the device nodes,
// the directories its sockets and console live in), each bound at the same
// path as on the host so that the rest of the VMM needs no other paths. The
// virtio-fs file server, forked before, gets a jail of its own with only the
// shared directory in it. The pid namespace comes from whoever spawns the
// VMM (a process cannot enter a new one without forking); the unprivileged
// identity follows once the devices are open (privileges.h).

#include <filesystem>
#include <vector>

#include "vmm/config/vmm_config.h"

namespace vmrt::vmm::security {

struct JailPlan {
  std::filesystem::path root;  // the jail directory; created if missing
  std::vector<std::filesystem::path> read_only_files;
  std::vector<std::filesystem::path> devices;        // character devices
  std::vector<std::filesystem::path> writable_dirs;  // sockets, console
  // Bound with their submounts; mounts made there later on the host appear
  // in the jail too when the tree is a shared mount (the sandbox makes it
  // one), and unmounting there unmounts here as well.
  std::vector<std::filesystem::path> shared_trees;
};

// What `config` needs inside the jail at config.jail: everything but the
// shared directory, which only the file server sees.
JailPlan plan_jail(const VmmConfig& config);

// The virtio-fs file server's own jail, in the "fs-server" directory of
// config.jail: the shared directory and nothing else.
JailPlan plan_file_server_jail(const VmmConfig& config);

// Enters the jail: unshare(CLONE_NEWNS | CLONE_NEWIPC), every inherited
// mount a slave of the host's, the plan's paths bound under `root`, a view
// of /proc/self/fd (virtio-fs reopens its handles through it; no procfs is
// mounted), pivot_root into `root`, the old root detached and the new one
// read-only. Throws vmrt::Error naming the step and path that failed.
void enter_jail(const JailPlan& plan);

}  // namespace vmrt::vmm::security
