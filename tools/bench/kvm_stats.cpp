#include "tools/bench/kvm_stats.h"

#include <filesystem>
#include <fstream>

namespace vmrt::bench {

namespace fs = std::filesystem;

const std::vector<std::string>& kvm_stat_names() {
  static const std::vector<std::string> names = {"exits", "mmio_exits", "io_exits", "halt_exits",
                                                 "irq_injections"};
  return names;
}

std::optional<std::map<std::string, uint64_t>> kvm_vm_stats(pid_t pid) {
  const fs::path root = "/sys/kernel/debug/kvm";
  const std::string prefix = std::to_string(pid) + "-";
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(root, ec)) {
    if (entry.path().filename().string().rfind(prefix, 0) != 0) continue;
    std::map<std::string, uint64_t> stats;
    for (const std::string& name : kvm_stat_names()) {
      std::ifstream in(entry.path() / name);
      uint64_t v = 0;
      if (!(in >> v)) return std::nullopt;
      stats[name] = v;
    }
    return stats;
  }
  return std::nullopt;
}

pid_t only_process_named(const std::string& name) {
  pid_t found = 0;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/proc", ec)) {
    std::string pid = entry.path().filename().string();
    if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream in(entry.path() / "comm");
    std::string comm;
    if (!std::getline(in, comm) || comm != name) continue;
    if (found != 0) return 0;
    found = static_cast<pid_t>(std::stol(pid));
  }
  return found;
}

}  // namespace vmrt::bench
