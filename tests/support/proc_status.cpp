#include "tests/support/proc_status.h"

#include <fstream>
#include <string>

namespace vmrt::test {

std::string proc_status_value(const std::filesystem::path& status_file, const std::string& key) {
  std::ifstream in(status_file);
  for (std::string line; std::getline(in, line);) {
    if (!line.starts_with(key + ":")) continue;
    size_t at = line.find_first_not_of(" \t", key.size() + 1);
    return at == std::string::npos ? "" : line.substr(at);
  }
  return "<no " + key + ">";
}

std::string proc_status_value(pid_t pid, const std::string& key) {
  return proc_status_value(std::filesystem::path("/proc") / std::to_string(pid) / "status", key);
}

long proc_status_kib(pid_t pid, const std::string& key) {
  std::string v = proc_status_value(pid, key);
  if (!v.ends_with(" kB")) return -1;
  try {
    return std::stol(v);
  } catch (const std::exception&) {
    return -1;
  }
}

}  // namespace vmrt::test
