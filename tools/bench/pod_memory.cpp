#include "tools/bench/pod_memory.h"

#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>

namespace vmrt::bench {

namespace {

// A smaps_rollup field ("Pss:", "Pss_Anon:") of `pid`, in KiB.
long smaps_kib(const std::string& pid, const std::string& field) {
  std::ifstream in("/proc/" + pid + "/smaps_rollup");
  for (std::string key; in >> key;) {
    long v;
    if (key == field && in >> v) return v;
    in.ignore(1 << 20, '\n');
  }
  return 0;
}

// Whether the process's arguments include --restore (NUL-separated).
bool restoring(const std::filesystem::path& proc) {
  std::ifstream in(proc / "cmdline", std::ios::binary);
  for (std::string arg; std::getline(in, arg, '\0');)
    if (arg == "--restore") return true;
  return false;
}

}  // namespace

std::vector<std::pair<long, std::string>> pss_by_mapping(const std::string& pid) {
  std::ifstream in("/proc/" + pid + "/smaps");
  std::map<std::string, long> kib;
  std::string current = "[anon]";
  for (std::string line; std::getline(in, line);) {
    std::istringstream f(line);
    std::string first;
    f >> first;
    if (first == "Pss:") {
      long v = 0;
      f >> v;
      kib[current] += v;
    } else if (first.find('-') != std::string::npos && first.find(':') == std::string::npos) {
      std::string perms, offset, dev, inode, path;
      f >> perms >> offset >> dev >> inode;
      std::getline(f >> std::ws, path);
      current = path.empty() ? "[anon]" : path;
    }
  }
  std::vector<std::pair<long, std::string>> out;
  for (const auto& [path, v] : kib) out.emplace_back(v, path);
  std::sort(out.rbegin(), out.rend());
  return out;
}

PodMemory measure_pods(const std::string& shim_name) {
  PodMemory p;
  for (const auto& e : std::filesystem::directory_iterator("/proc")) {
    std::string pid = e.path().filename();
    if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
    std::error_code ec;
    std::string exe = std::filesystem::read_symlink(e.path() / "exe", ec).filename();
    if (ec) continue;
    if (exe == shim_name) {
      p.shim_kib += smaps_kib(pid, "Pss:");
      p.shim_anon_kib += smaps_kib(pid, "Pss_Anon:");
      ++p.shims;
      if (p.first_shim.empty()) p.first_shim = pid;
    } else if (exe == "vmrt-vmm") {
      long kib = smaps_kib(pid, "Pss:");
      p.vm_kib += kib;
      std::ifstream comm(e.path() / "comm");
      std::string name;
      std::getline(comm, name);
      if (name == "vmrt-vmm") {
        p.vmm_kib += kib;
        ++p.vmms;
        if (restoring(e.path())) ++p.restored;
      }
    }
  }
  return p;
}

long allocated_kib(const std::filesystem::path& dir) {
  long kib = 0;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    struct stat st {};
    if (::lstat(it->path().c_str(), &st) == 0 && S_ISREG(st.st_mode)) kib += st.st_blocks / 2;
  }
  return kib;
}

}  // namespace vmrt::bench
