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
  std::string log_level = "info";
};

// Reads the keys of `j` (kernel, initrd, cmdline, mem_mib, cpus, hugepages,
// console, control_socket, vsock_socket, vsock_cid, fs_dir, fs_tag, fs_cache,
// log_level) over `base`. Unknown keys and wrong
// types are errors naming `source` and the key.
VmmConfig config_from_json(const nlohmann::json& j, const std::string& source, VmmConfig base = {});
VmmConfig load_config_file(const std::string& path);

// Throws vmrt::Error for missing/unreadable files, 0 or absurd memory and
// vCPU counts.
void validate(const VmmConfig& config);

}  // namespace vmrt::vmm
