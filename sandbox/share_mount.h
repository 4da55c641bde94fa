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
  ~ShareMount();  // lazy unmount; failures are logged

  const std::filesystem::path& target() const noexcept { return target_; }

 private:
  std::filesystem::path target_;
};

}  // namespace vmrt::sandbox
