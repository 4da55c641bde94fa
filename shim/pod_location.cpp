#include "shim/pod_location.h"

#include <fmt/format.h>

#include <cstdlib>

#include "common/container_id.h"
#include "common/error.h"
#include "common/unix_socket.h"

namespace vmrt::shim {

std::string pod_of(const std::string& id, const oci::StringMap& annotations) {
  check_container_id(id);
  auto type = annotations.find(kContainerTypeAnnotation);
  auto sandbox = annotations.find(kSandboxIdAnnotation);
  if (type != annotations.end() && type->second == "container" && sandbox != annotations.end() &&
      !sandbox->second.empty()) {
    // The pod's id names its VM's cgroup and state as a task id would.
    try {
      check_container_id(sandbox->second);
    } catch (const Error& e) {
      throw Error(fmt::format("annotation {}: {}", kSandboxIdAnnotation, e.what()), e.code());
    }
    return sandbox->second;
  }
  return id;
}

bool shim_running(const PodLocation& where) {
  try {
    connect_unix(where.socket);
    return true;
  } catch (const Error&) {
    return false;
  }
}

std::filesystem::path default_shim_root() {
  if (const char* r = std::getenv("VMRT_SHIM_ROOT"); r && *r) return r;
  return "/run/vmrt/shim";
}

PodLocation locate_pod(const std::string& containerd_address, const std::string& ns,
                       const std::string& pod, const std::filesystem::path& root) {
  // FNV-1a, 64 bits: stable across builds and hosts (std::hash is not), and
  // a collision needs two live pods of one containerd to meet.
  uint64_t h = 0xcbf29ce484222325ULL;
  auto mix = [&h](const std::string& s) {
    for (unsigned char c : s) {
      h ^= c;
      h *= 0x100000001b3ULL;
    }
    h ^= 0xff;  // separator: ("ab","c") and ("a","bc") differ
    h *= 0x100000001b3ULL;
  };
  mix(containerd_address);
  mix(ns);
  mix(pod);
  PodLocation l;
  l.dir = (root.empty() ? default_shim_root() : root) / fmt::format("{:016x}", h);
  l.socket = l.dir / "shim.sock";
  return l;
}

}  // namespace vmrt::shim
