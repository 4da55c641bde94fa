#pragma once
// How a sandbox VM is started: the files of one sandbox's directory and the
// vmrt-vmm command line built from the runtime configuration.

#include <filesystem>
#include <string>
#include <vector>

#include "sandbox/config.h"

namespace vmrt::sandbox {

// A sandbox's directory and what lives in it while its VM runs.
struct SandboxPaths {
  explicit SandboxPaths(std::filesystem::path d) : dir(std::move(d)) {}
  std::filesystem::path dir;
  // What the VMM writes: its sockets and the guest console. The only
  // directory of the sandbox a jailed VMM can write to.
  std::filesystem::path vm_dir() const { return dir / "vm"; }
  std::filesystem::path vm_socket() const { return vm_dir() / "vm.sock"; }  // hybrid vsock
  std::filesystem::path console_log() const { return vm_dir() / "console.log"; }
  // The VMM's control socket (vmm/control): memory hotplug, counters.
  std::filesystem::path control_socket() const { return vm_dir() / "control.sock"; }
  // The jailed VMM's root (vmm/security/jail.h).
  std::filesystem::path jail_dir() const { return dir / "jail"; }
  std::filesystem::path vmm_log() const { return dir / "vmm.log"; }
  // Shared with the guest over virtio-fs: container rootfs mounts go here.
  std::filesystem::path shared_dir() const { return dir / "shared"; }
};

// The guest kernel command line: serial console, no reboot on panic (the VM
// ends instead), quiet boot, then the configuration's kernel_params. (The
// VMM adds what its devices need: virtio_mmio.device=, maxcpus=, and for
// hotplugged memory memhp_default_state=online_movable.)
std::string guest_cmdline(const RuntimeConfig& config);

// vmrt-vmm's argv for a sandbox. Its socket paths may be of any length
// (common/unix_socket.h).
// With `restore` (a VM template's directory, sandbox/vm_template.h), the VM
// is restored from that snapshot instead of booting the kernel and image.
std::vector<std::string> vmm_argv(const RuntimeConfig& config, const SandboxPaths& paths,
                                  const std::filesystem::path& restore = {});

}  // namespace vmrt::sandbox
