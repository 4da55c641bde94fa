#pragma once
// The rootfs containerd describes in a Create request (a snapshot: overlay
// layers, or a bind of a directory), mounted at BUNDLE/rootfs in the shim's
// private mount namespace and unmounted, in reverse order, when this goes.

#include <filesystem>
#include <string>
#include <vector>

namespace vmrt::shim {

struct MountSpec {
  std::string type, source;
  std::vector<std::string> options;
};

// mount(2) flags and the data string for `options` ("ro", "rbind",
// "nosuid"... become flags; the rest, e.g. overlay's lowerdir=, is data).
struct MountArgs {
  unsigned long flags = 0;
  std::string data;
};
MountArgs mount_args(const MountSpec& m);

class RootfsMounts {
 public:
  RootfsMounts() = default;
  // Throws vmrt::Error naming the mount that failed; what was mounted before
  // it is unmounted again.
  RootfsMounts(const std::vector<MountSpec>& mounts, const std::filesystem::path& target);
  RootfsMounts(RootfsMounts&& other) noexcept;
  RootfsMounts& operator=(RootfsMounts&& other) noexcept;
  ~RootfsMounts();

 private:
  void unmount_all() noexcept;
  std::filesystem::path target_;
  size_t count_ = 0;
};

}  // namespace vmrt::shim
