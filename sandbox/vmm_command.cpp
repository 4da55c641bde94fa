#include "sandbox/vmm_command.h"

#include <sys/un.h>

#include "common/error.h"

namespace vmrt::sandbox {

std::string guest_cmdline(const RuntimeConfig& config) {
  std::string cmdline = "console=ttyS0 reboot=k panic=-1 quiet";
  if (!config.kernel_params.empty()) cmdline += " " + config.kernel_params;
  return cmdline;
}

std::vector<std::string> vmm_argv(const RuntimeConfig& config, const SandboxPaths& paths) {
  // The VMM also listens on "<socket>_<port>" for connections the guest
  // opens to the host: leave room for the longest port number.
  constexpr std::size_t kPortSuffix = sizeof("_4294967295") - 1;
  std::string socket = paths.vm_socket().string();
  if (socket.size() + kPortSuffix >= sizeof(sockaddr_un{}.sun_path))
    fail(
        "state directory {} is too deep: the VM socket path must stay under {} bytes; use a "
        "shorter --root",
        paths.dir.string(), sizeof(sockaddr_un{}.sun_path) - kPortSuffix);
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
  if (config.jail)
    argv.insert(argv.end(),
                {"--jail", paths.jail_dir().string(), "--jail-uid", std::to_string(config.jail_uid),
                 "--jail-gid", std::to_string(config.jail_gid)});
  return argv;
}

}  // namespace vmrt::sandbox
