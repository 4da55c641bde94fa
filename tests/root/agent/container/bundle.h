#pragma once
// A busybox-static OCI bundle in a temporary directory, with a runc-style
// config, for container tests that need root but no VM.

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/tempdir.h"

namespace vmrt::test {

class Bundle {
 public:
  Bundle();
  const std::filesystem::path& dir() const { return dir_.path(); }
  std::filesystem::path rootfs() const { return dir() / "rootfs"; }
  // The config: as `runc spec` writes it (pid, network, ipc, uts, mount and
  // cgroup namespaces, proc/dev/devpts/shm/mqueue/sysfs/cgroup mounts,
  // masked and read-only paths, runc's default capabilities), not a
  // terminal, running `args`.
  nlohmann::json config;
  void set_args(const std::vector<std::string>& args) { config["process"]["args"] = args; }
  // Writes config.json (for runc).
  void write_config() const;

 private:
  TempDir dir_;
};

struct Output {
  std::string out, err;
};
// Reads both streams (either may be -1) until both end (EOF, or EIO on a pty
// master whose slave closed); bounded by `limit`.
Output read_streams(int out_fd, int err_fd, std::chrono::seconds limit = std::chrono::seconds(20));
// Reads `fd` until `needle` has appeared (or it ends, or 20 s pass).
std::string read_until(int fd, const std::string& needle);

// The cgroup v2 mount to use: /sys/fs/cgroup when it is one, else the
// hybrid layout's /sys/fs/cgroup/unified.
std::filesystem::path cgroup2_root();
// Whether `controller` can be enabled below that root.
bool cgroup_controller_available(const std::string& controller);

}  // namespace vmrt::test
