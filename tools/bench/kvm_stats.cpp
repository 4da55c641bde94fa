#include "tools/bench/kvm_stats.h"

#include <filesystem>
#include <fstream>
#include <vector>

namespace vmrt::bench {

namespace fs = std::filesystem;

namespace {
const std::vector<std::string> kStatNames = {"exits", "mmio_exits", "io_exits", "halt_exits",
                                             "irq_injections"};
}  // namespace

std::optional<std::map<std::string, uint64_t>> kvm_vm_stats(pid_t pid) {
  const fs::path root = "/sys/kernel/debug/kvm";
  const std::string prefix = std::to_string(pid) + "-";
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(root, ec)) {
    if (entry.path().filename().string().rfind(prefix, 0) != 0) continue;
    std::map<std::string, uint64_t> stats;
    for (const std::string& name : kStatNames) {
      std::ifstream in(entry.path() / name);
      uint64_t v = 0;
      if (!(in >> v)) return std::nullopt;
      stats[name] = v;
    }
    return stats;
  }
  return std::nullopt;
}

}  // namespace vmrt::bench
