#include "sandbox/vmm_command.h"

#include "sandbox/vm_size.h"

namespace vmrt::sandbox {

std::string guest_cmdline(const RuntimeConfig& config) {
  // virtio_net.napi_tx=0: the guest frees sent buffers when it next sends
  // rather than on an interrupt per transmit completion. On virtio-mmio each
  // interrupt costs the guest two exits to the VMM (status read and
  // acknowledge), which is most of a small request's round trip.
  std::string cmdline = "console=ttyS0 reboot=k panic=-1 quiet virtio_net.napi_tx=0";
  if (!config.kernel_params.empty()) cmdline += " " + config.kernel_params;
  return cmdline;
}

std::vector<std::string> vmm_argv(const RuntimeConfig& config, const SandboxPaths& paths,
                                  const std::filesystem::path& restore) {
  std::string socket = paths.vm_socket().string();
  // Booted (or restored) at the base size, with room to grow to the
  // operator's maxima: vCPUs the guest leaves offline, and a virtio-mem
  // region nothing is plugged into.
  VmCapacity capacity = capacity_of(config);
  std::vector<std::string> argv = {config.vmm.string(),
                                   "--kernel",
                                   config.kernel.string(),
                                   "--initrd",
                                   config.image.string(),
                                   "--cmdline",
                                   guest_cmdline(config),
                                   "--cpus",
                                   std::to_string(config.vcpus),
                                   "--mem",
                                   std::to_string(config.memory_mib),
                                   "--max-cpus",
                                   std::to_string(capacity.max_vcpus),
                                   "--hotplug-mib",
                                   std::to_string(capacity.hotplug_mib),
                                   "--control-socket",
                                   paths.control_socket().string(),
                                   "--console",
                                   paths.console_log().string(),
                                   "--vsock-socket",
                                   socket,
                                   "--fs-dir",
                                   paths.shared_dir().string(),
                                   "--fs-cache",
                                   config.fs_cache,
                                   "--log-level",
                                   config.log_level};
  if (!restore.empty()) {
    // What the guest was booted from is in the snapshot.
    argv.erase(argv.begin() + 1, argv.begin() + 7);
    argv.insert(argv.begin() + 1, {"--restore", restore.string()});
    if (config.template_memory == "private") argv.insert(argv.begin() + 3, "--restore-copy");
  }
  if (config.jail)
    argv.insert(argv.end(),
                {"--jail", paths.jail_dir().string(), "--jail-uid", std::to_string(config.jail_uid),
                 "--jail-gid", std::to_string(config.jail_gid)});
  return argv;
}

}  // namespace vmrt::sandbox
