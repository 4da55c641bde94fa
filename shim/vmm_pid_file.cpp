#include "shim/vmm_pid_file.h"

#include <signal.h>
#include <spdlog/spdlog.h>

#include <fstream>
#include <string>

namespace vmrt::shim {

void record_vmm(const std::filesystem::path& pod_dir, pid_t pid, const std::string& pod) {
  // The id first: whoever finds the pid finds the id beside it.
  std::ofstream(pod_id_file(pod_dir), std::ios::trunc) << pod << "\n";
  std::ofstream(vmm_pid_file(pod_dir), std::ios::trunc) << pid << "\n";
}

void record_start_times(const std::filesystem::path& pod_dir, const std::string& json) {
  std::ofstream out(start_times_file(pod_dir), std::ios::trunc);
  out << json << "\n";
  if (!out.flush()) spdlog::warn("cannot write {}", start_times_file(pod_dir).string());
}

void kill_recorded_vmm(const std::filesystem::path& pod_dir) {
  pid_t pid = 0;
  if (!(std::ifstream(vmm_pid_file(pod_dir)) >> pid) || pid <= 0) return;
  std::string cmdline;
  std::getline(std::ifstream("/proc/" + std::to_string(pid) + "/cmdline"), cmdline, '\0');
  if (cmdline.ends_with("vmrt-vmm")) {
    spdlog::info("stopping vmrt-vmm {} left by a dead shim", pid);
    ::kill(pid, SIGKILL);
  }
  std::error_code ec;
  std::filesystem::remove(vmm_pid_file(pod_dir), ec);
}

}  // namespace vmrt::shim
