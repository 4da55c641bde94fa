#pragma once
// A host directory or file shown inside the sandbox's shared directory (and
// so to the guest): a recursive bind mount of a container's rootfs or of a
// bind-mount source from its spec, unmounted (and its mount point removed)
// when the object goes away.

#include <filesystem>

namespace vmrt::sandbox {

class ShareMount {
 public:
  // Creates `target` (a directory or an empty file, as `source` is; and its
  // parents) and bind-mounts `source` there. Throws vmrt::Error naming both.
  ShareMount(const std::filesystem::path& source, std::filesystem::path target);
  ShareMount(ShareMount&& other) noexcept;
  ShareMount& operator=(ShareMount&&) = delete;
  ShareMount(const ShareMount&) = delete;
  ~ShareMount();  // unmount(); a failure is logged

  // Lazily unmounts and removes the mount point. An unmount that fails is
  // thrown as vmrt::Error naming the target, and the mount point stays:
  // whoever removes the directory around it must not reach into the mount
  // (see remove_tree). Either way this object owns nothing afterwards.
  void unmount();

  const std::filesystem::path& target() const noexcept { return target_; }

 private:
  std::filesystem::path target_;
};

}  // namespace vmrt::sandbox
