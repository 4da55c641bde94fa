#include "sandbox/share_mount.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/mount.h>
#include <unistd.h>

#include <utility>

#include "common/error.h"
#include "common/fd.h"
#include "common/mount_point.h"

namespace vmrt::sandbox {

namespace {

// A detached copy of `source`'s mount (with its submounts when recursive)
// whose flags are set before it is attached at `target`. A mount reaches
// the share's peers and slaves (the jailed file server's copy of the share)
// as it is when attached; a remount afterwards would change the host's copy
// only and leave the server's writable.
void attach_bind(const std::filesystem::path& source, const std::filesystem::path& target,
                 ShareMountOptions options) {
  unsigned int flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (options.recursive ? AT_RECURSIVE : 0);
  UniqueFd tree(::open_tree(AT_FDCWD, source.c_str(), flags));
  if (!tree) throw_errno("open_tree");
  mount_attr attr{};
  attr.attr_set = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | (options.readonly ? MOUNT_ATTR_RDONLY : 0);
  check_sys(::mount_setattr(tree.get(), "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr),
            options.readonly ? "mount_setattr nosuid,nodev,ro" : "mount_setattr nosuid,nodev");
  check_sys(::move_mount(tree.get(), "", AT_FDCWD, target.c_str(), MOVE_MOUNT_F_EMPTY_PATH),
            "move_mount");
}

}  // namespace

ShareMount::ShareMount(const std::filesystem::path& source, std::filesystem::path target,
                       ShareMountOptions options)
    : target_(std::move(target)) {
  try {
    make_mount_point(source, target_);
  } catch (...) {
    target_.clear();  // nothing mounted: nothing for the destructor
    throw;
  }
  try {
    attach_bind(source, target_, options);
  } catch (const Error& e) {
    std::error_code ec;
    std::filesystem::remove(target_, ec);
    std::string where = target_.string();
    target_.clear();
    throw Error(fmt::format("bind-mount {} at {}: {}", source.string(), where, e.what()), e.code());
  }
}

ShareMount::ShareMount(ShareMount&& other) noexcept : target_(std::exchange(other.target_, {})) {}

ShareMount::~ShareMount() {
  try {
    unmount();
  } catch (const Error& e) {
    spdlog::error("{}", e.what());
  }
}

void ShareMount::unmount() {
  if (target_.empty()) return;
  std::filesystem::path target = std::exchange(target_, {});
  if (::umount2(target.c_str(), MNT_DETACH) < 0) throw_errno("unmount " + target.string());
  std::error_code ec;
  std::filesystem::remove(target, ec);
  std::filesystem::remove(target.parent_path(), ec);  // shared/<id>, when empty
}

}  // namespace vmrt::sandbox
