#pragma once
// A host directory or file shown inside the sandbox's shared directory (and
// so to the guest): a bind mount of a container's rootfs or of a bind-mount
// source from its spec, unmounted (and its mount point removed) when the
// object goes away.
//
// The guest's root can mount the whole share and the file server writes as
// uid 0, so what the spec asks of a bind is enforced here, on the host:
// every mount is nosuid and nodev, and read-only when asked, before the
// guest can reach it.

#include <filesystem>

namespace vmrt::sandbox {

struct ShareMountOptions {
  bool recursive = true;  // the source's submounts too (rbind), else just its own mount
  bool readonly = false;  // read-only, submounts included
};

class ShareMount {
 public:
  // Creates `target` (a directory or an empty file, as `source` is; and its
  // parents) and bind-mounts `source` there. Throws vmrt::Error naming both.
  ShareMount(const std::filesystem::path& source, std::filesystem::path target,
             ShareMountOptions options = {});
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
