#pragma once
// vmrt-vmm's configuration: a JSON file, command-line flags over it, and the
// checks that turn bad values into clear errors before anything is created.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

namespace vmrt::vmm {

struct VmmConfig {
  static constexpr const char* kDefaultCmdline = "console=ttyS0 reboot=k panic=-1";

  std::string kernel;  // ELF vmlinux (PVH) or bzImage
  std::string initrd;  // optional
  std::string cmdline = kDefaultCmdline;
  uint64_t mem_mib = 128;
  uint32_t cpus = 1;
  // vCPUs the VM has, of which the guest starts `cpus` at boot and can bring
  // the others online later (vCPU hotplug). 0: as many as `cpus`.
  uint32_t max_cpus = 0;
  // virtio-mem: the size of the region the guest's memory can grow into
  // beyond mem_mib, a multiple of 128 MiB; 0 for no virtio-mem device.
  uint64_t hotplug_mib = 0;
  bool hugepages = false;
  // "stdout", "none", or a path (regular file, truncated; or a FIFO).
  std::string console = "stdout";
  std::string control_socket;  // optional Unix socket for shutdown/pause/resume/info
  // virtio-vsock: the VM's hybrid vsock Unix socket (no device when empty)
  // and the guest's context ID.
  std::string vsock_socket;
  uint64_t vsock_cid = 3;
  // virtio-fs: a host directory the guest mounts with
  // `mount -t virtiofs <fs_tag> <dir>` (no device when fs_dir is empty),
  // and how much the guest may cache: none, auto or always.
  std::string fs_dir;
  std::string fs_tag = "vmrt";
  std::string fs_cache = "auto";
  // virtio-net: a host tap, either opened by interface name in the VMM's
  // network namespace or inherited already open (fd number, -1 for none);
  // at most one of the two. net_mac is the guest's address
  // (xx:xx:xx:xx:xx:xx); a random locally administered one when empty.
  std::string net_tap;
  int net_tap_fd = -1;
  std::string net_mac;
  // Per-thread seccomp filters (vmm/security/): on, off, or log (violations
  // allowed and logged by the kernel, for development).
  std::string seccomp = "on";
  std::string log_level = "info";
  // The jail directory (vmm/security/jail.h); empty: no jail. In a jail the
  // VMM drops to jail_uid/jail_gid once its devices are open.
  std::string jail;
  uint64_t jail_uid = 65534;
  uint64_t jail_gid = 65534;
  // Snapshots (vmm/snapshot/): the directory the control socket's
  // "snapshot" command writes `state` and `memory` to; and a directory
  // holding such a snapshot to restore the VM from instead of booting
  // (guest RAM then maps its memory file copy-on-write, or with
  // restore_copy reads it into RAM of its own, sharing no page).
  std::string snapshot_dir;
  std::string restore;
  bool restore_copy = false;
};

// Reads the keys of `j` (kernel, initrd, cmdline, mem_mib, cpus, max_cpus, hugepages,
// console, control_socket, vsock_socket, vsock_cid, fs_dir, fs_tag, fs_cache,
// net_tap, net_tap_fd, net_mac, seccomp, log_level, jail, jail_uid, jail_gid,
// snapshot_dir, restore, restore_copy, hotplug_mib)
// over `base`. Unknown keys and wrong
// types are errors naming `source` and the key.
VmmConfig config_from_json(const nlohmann::json& j, const std::string& source, VmmConfig base = {});
VmmConfig load_config_file(const std::string& path);

// Throws vmrt::Error for missing/unreadable files, 0 or absurd memory and
// vCPU counts (max_cpus below cpus), a hotplug size that is not a multiple of 128 MiB, two
// taps, a closed tap fd, a malformed MAC address or an unknown seccomp mode.
void validate(const VmmConfig& config);

}  // namespace vmrt::vmm
