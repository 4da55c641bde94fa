#include "sandbox/cgroup_hierarchy.h"

#include <fstream>
#include <sstream>

#include "common/cgroup_files.h"
#include "common/error.h"

namespace vmrt::sandbox {

namespace {

namespace fs = std::filesystem;

// Mount options of a v1 hierarchy that name no controller.
bool mount_flag(const std::string& o) {
  return o == "rw" || o == "ro" || o == "xattr" || o == "noprefix" || o == "clone_children" ||
         o == "cpuset_v2_mode" || o == "none" || o == "all" || o.starts_with("release_agent=");
}

std::set<std::string> split_commas(const std::string& s) {
  std::set<std::string> out;
  std::istringstream in(s);
  for (std::string w; std::getline(in, w, ',');)
    if (!w.empty()) out.insert(w);
  return out;
}

std::string read_all(const fs::path& file) {
  std::ifstream in(file);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

std::vector<CgroupHierarchy> parse_cgroup_mounts(const std::string& mountinfo) {
  std::vector<CgroupHierarchy> out;
  std::istringstream in(mountinfo);
  for (std::string line; std::getline(in, line);) {
    // id parent dev root mount-point options [optional...] - fstype source super-options
    size_t dash = line.find(" - ");
    if (dash == std::string::npos) continue;
    std::istringstream fields(line.substr(0, dash)), tail(line.substr(dash + 3));
    std::string id, parent, dev, root, mount_point, fstype, source, super;
    fields >> id >> parent >> dev >> root >> mount_point;
    tail >> fstype >> source >> super;
    if (root != "/" || (fstype != "cgroup" && fstype != "cgroup2")) continue;
    CgroupHierarchy h{.mount = mount_point, .v2 = fstype == "cgroup2"};
    if (!h.v2)
      for (const auto& o : split_commas(super))
        if (!mount_flag(o)) h.controllers.insert(o);
    // The same hierarchy mounted twice counts once.
    bool seen = false;
    for (const auto& o : out) seen |= o.v2 == h.v2 && o.controllers == h.controllers;
    if (!seen) out.push_back(std::move(h));
  }
  return out;
}

std::vector<CgroupHierarchy> choose_hierarchies(const std::vector<CgroupHierarchy>& mounts,
                                                bool v2_has_memory) {
  std::vector<CgroupHierarchy> out;
  for (const auto& h : mounts)
    if (h.v2 == v2_has_memory) out.push_back(h);
  for (const char* c : {"memory", "cpu", "pids"}) {
    bool found = false;
    for (const auto& h : out) found |= h.has(c);
    if (!found)
      fail(
          "no cgroup hierarchy has the {} controller for the VMMs' cgroups; set "
          "jail.cgroup_parent = \"\" and jail.pod_cgroup = false to run VMMs without one",
          c);
  }
  return out;
}

std::vector<CgroupHierarchy> host_hierarchies() {
  auto mounts = parse_cgroup_mounts(read_all("/proc/self/mountinfo"));
  bool v2_has_memory = false;
  for (const auto& h : mounts)
    if (h.v2)
      v2_has_memory = cgroup_words(read_all(h.mount / "cgroup.controllers")).count("memory") > 0;
  return choose_hierarchies(mounts, v2_has_memory);
}

std::optional<fs::path> cgroup_in(const std::string& proc_cgroup, const CgroupHierarchy& h) {
  std::istringstream in(proc_cgroup);
  for (std::string line; std::getline(in, line);) {
    // hierarchy-id:controllers:/path; cgroup2's is "0::/path".
    size_t a = line.find(':'), b = a == std::string::npos ? a : line.find(':', a + 1);
    if (b == std::string::npos) continue;
    std::set<std::string> names = split_commas(line.substr(a + 1, b - a - 1));
    bool match = h.v2 ? names.empty() && line.compare(0, a, "0") == 0
                      : !names.empty() && names == h.controllers;
    if (match) return fs::path(line.substr(b + 1)).relative_path();
  }
  return std::nullopt;
}

fs::path cgroup2_root() {
  for (const auto& h : parse_cgroup_mounts(read_all("/proc/self/mountinfo")))
    if (h.v2) return h.mount;
  return {};
}

}  // namespace vmrt::sandbox
