#pragma once
// linux.resources in cgroup v2 terms: the file writes that apply them. The
// spec speaks cgroup v1 (shares, blkio weight, memory+swap); the conversions
// are runc's, so a spec means the same under both runtimes.

#include <set>
#include <string>
#include <vector>

#include "common/oci/spec.h"

namespace vmrt::agent {

struct CgroupWrite {
  std::string file;  // "memory.max"
  std::string value;
  bool operator==(const CgroupWrite&) const = default;
};

// In the order they are to be written. Throws vmrt::Error naming the field,
// e.g. "linux.resources.memory.swap: 100 is less than memory.limit 200 (swap
// counts memory plus swap)". Settings cgroup v2 has no place for (kernel
// memory, swappiness, realtime CPU, net_cls/net_prio, device rules) are
// refused when set to something other than "unset", except device rules,
// which the VM boundary stands in for and which are ignored.
std::vector<CgroupWrite> plan_resources(const oci::Resources& resources);

// The controllers the writes need ("memory" for "memory.max").
std::set<std::string> controllers_of(const std::vector<CgroupWrite>& writes);

// The container's cgroup below the cgroup root, from linux.cgroupsPath:
// "/a/b" and "a/b" are both ROOT/a/b, systemd's "slice:prefix:name" is
// ROOT/slice/prefix-name.scope, and an empty one is vmrt/ID. Throws on ".."
// and other paths that would leave the root.
std::string cgroup_relative_path(const std::string& cgroups_path, const std::string& id);

}  // namespace vmrt::agent
