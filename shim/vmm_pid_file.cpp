#include "shim/vmm_pid_file.h"

#include <signal.h>
#include <spdlog/spdlog.h>

#include <fstream>
#include <string>

namespace vmrt::shim {
namespace {

std::filesystem::path pid_file(const std::filesystem::path& pod_dir) { return pod_dir / "vmm.pid"; }

}  // namespace

void record_vmm(const std::filesystem::path& pod_dir, pid_t pid) {
  std::ofstream(pid_file(pod_dir), std::ios::trunc) << pid << "\n";
}

void kill_recorded_vmm(const std::filesystem::path& pod_dir) {
  pid_t pid = 0;
  if (!(std::ifstream(pid_file(pod_dir)) >> pid) || pid <= 0) return;
  std::string cmdline;
  std::getline(std::ifstream("/proc/" + std::to_string(pid) + "/cmdline"), cmdline, '\0');
  if (cmdline.ends_with("vmrt-vmm")) {
    spdlog::info("stopping vmrt-vmm {} left by a dead shim", pid);
    ::kill(pid, SIGKILL);
  }
  std::error_code ec;
  std::filesystem::remove(pid_file(pod_dir), ec);
}

}  // namespace vmrt::shim
