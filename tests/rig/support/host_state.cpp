#include "tests/rig/support/host_state.h"

#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

namespace vmrt::test {

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

namespace {

// The numeric entries of /proc.
std::vector<std::string> pids() {
  std::vector<std::string> found;
  for (const auto& e : std::filesystem::directory_iterator("/proc")) {
    std::string pid = e.path().filename().string();
    if (pid.find_first_not_of("0123456789") == std::string::npos) found.push_back(pid);
  }
  return found;
}

}  // namespace

std::vector<std::string> processes_named(const std::string& program_suffix) {
  std::vector<std::string> found;
  for (const std::string& pid : pids()) {
    std::string cmdline = read_text("/proc/" + pid + "/cmdline");
    std::string argv0 = cmdline.substr(0, cmdline.find('\0'));
    if (argv0.size() >= program_suffix.size() &&
        argv0.compare(argv0.size() - program_suffix.size(), program_suffix.size(),
                      program_suffix) == 0) {
      std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
      found.push_back(pid + " " + cmdline);
    }
  }
  return found;
}

std::vector<std::string> vmm_processes() {
  std::vector<std::string> vmms;
  for (std::string& p : processes_named("/vmrt-vmm"))
    if (read_text("/proc/" + p.substr(0, p.find(' ')) + "/comm") == "vmrt-vmm\n")
      vmms.push_back(std::move(p));
  return vmms;
}

std::vector<int> descendants(int pid) {
  std::multimap<int, int> children;
  for (const std::string& p : pids()) {
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses,
    // so the fields are counted from the last ')'.
    std::string stat = read_text("/proc/" + p + "/stat");
    size_t end = stat.rfind(')');
    if (end == std::string::npos) continue;
    std::istringstream rest(stat.substr(end + 1));
    std::string state;
    int ppid = 0;
    if (rest >> state >> ppid) children.emplace(ppid, std::stoi(p));
  }
  std::vector<int> found;
  std::vector<int> todo = {pid};
  while (!todo.empty()) {
    int parent = todo.back();
    todo.pop_back();
    auto [first, last] = children.equal_range(parent);
    for (auto it = first; it != last; ++it) {
      found.push_back(it->second);
      todo.push_back(it->second);
    }
  }
  return found;
}

std::string mount_point(const std::string& mountinfo_line) {
  // "id parent major:minor root mount-point options ..."
  std::istringstream fields(mountinfo_line);
  std::string id, parent, dev, root, point;
  fields >> id >> parent >> dev >> root >> point;
  return point;
}

std::vector<std::string> mounts_under(const std::filesystem::path& dir) {
  std::vector<std::string> found;
  std::string prefix = dir.string() + "/";
  std::istringstream mounts(read_text("/proc/self/mountinfo"));
  for (std::string line; std::getline(mounts, line);) {
    std::string point = mount_point(line);
    if (point == dir.string() || point.rfind(prefix, 0) == 0) found.push_back(line);
  }
  return found;
}

std::vector<std::string> settled(const std::function<std::vector<std::string>()>& list,
                                 std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::vector<std::string> left = list();
  while (!left.empty() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    left = list();
  }
  return left;
}

void make_busybox_rootfs(const std::filesystem::path& rootfs) {
  std::filesystem::create_directories(rootfs / "bin");
  std::filesystem::copy_file("/bin/busybox", rootfs / "bin/busybox");
  for (const char* applet :
       {"sh", "cat", "echo", "sleep", "head", "tr", "tty", "hostname", "id", "ls", "ps", "kill",
        "true", "false", "wc", "stty", "test", "touch", "env"})
    std::filesystem::create_symlink("busybox", rootfs / "bin" / applet);
}

bool in_a_chroot() {
  struct stat ours {
  }, init{};
  return ::stat("/", &ours) == 0 && ::stat("/proc/1/root/", &init) == 0 &&
         (ours.st_dev != init.st_dev || ours.st_ino != init.st_ino);
}

std::vector<std::string> vmm_cgroups() {
  // Anywhere below the root: <cgroup_parent>/vmm-<id>, or <cgroupsPath>/vmm
  // and <cgroupsPath>/shim of a pod's sandbox.
  std::vector<std::string> found;
  std::error_code ec;
  auto it = std::filesystem::recursive_directory_iterator("/sys/fs/cgroup", ec);
  for (auto end = std::filesystem::recursive_directory_iterator(); !ec && it != end;
       it.increment(ec)) {
    if (!it->is_directory(ec)) continue;
    std::string name = it->path().filename().string();
    if (name.starts_with("vmm-") || name == "vmm" || name == "shim")
      found.push_back(it->path().string());
  }
  return found;
}

}  // namespace vmrt::test
