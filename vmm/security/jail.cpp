#include "vmm/security/jail.h"

#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>

#include "common/error.h"
#include "common/mount_point.h"

namespace vmrt::vmm::security {

namespace {

namespace fs = std::filesystem;

enum class Kind { ReadOnlyFile, Device, WritableDir, SharedTree, ProcFds };

struct Entry {
  fs::path source;
  fs::path target;  // the same absolute path, inside the jail
  Kind kind;
};

void add_parent_dir(std::vector<fs::path>& dirs, const std::string& file) {
  if (file.empty()) return;
  fs::path parent = fs::absolute(file).parent_path();
  if (std::find(dirs.begin(), dirs.end(), parent) == dirs.end()) dirs.push_back(parent);
}

void bind(const Entry& e) {
  make_mount_point(e.source, e.target);
  unsigned long flags = MS_BIND | (e.kind == Kind::SharedTree ? MS_REC : 0);
  if (::mount(e.source.c_str(), e.target.c_str(), nullptr, flags, nullptr) != 0)
    throw_errno("jail: cannot bind " + e.source.string() + " to " + e.target.string());
  // Read-only, no setuid and no devices wherever the VMM does not need
  // them. (Flags of a recursive bind's submounts are left alone: those are
  // the containers' rootfs and bind mounts, which arrive with the flags the
  // sandbox gave them: nosuid,nodev, read-only where the spec says.)
  unsigned long restrict = MS_NOSUID | MS_NOEXEC;
  switch (e.kind) {
    case Kind::ReadOnlyFile:
    case Kind::ProcFds:
      restrict |= MS_RDONLY | MS_NODEV;
      break;
    case Kind::Device:
      break;
    case Kind::WritableDir:
    case Kind::SharedTree:
      restrict |= MS_NODEV;
      break;
  }
  if (::mount(nullptr, e.target.c_str(), nullptr, MS_REMOUNT | MS_BIND | restrict, nullptr) != 0)
    throw_errno("jail: cannot restrict the mount " + e.target.string());
}

}  // namespace

JailPlan plan_jail(const VmmConfig& config) {
  JailPlan plan;
  plan.root = config.jail;
  // A restored VM's snapshot files are open before the jail: nothing of
  // them needs to be inside.
  if (!config.kernel.empty()) plan.read_only_files.push_back(config.kernel);
  if (!config.initrd.empty()) plan.read_only_files.push_back(config.initrd);
  plan.devices.push_back("/dev/kvm");
  if (!config.net_tap.empty()) plan.devices.push_back("/dev/net/tun");
  add_parent_dir(plan.writable_dirs, config.vsock_socket);
  add_parent_dir(plan.writable_dirs, config.control_socket);
  if (config.console != "stdout" && config.console != "none")
    add_parent_dir(plan.writable_dirs, config.console);
  return plan;
}

JailPlan plan_file_server_jail(const VmmConfig& config) {
  JailPlan plan;
  plan.root = std::filesystem::path(config.jail) / "fs-server";
  plan.shared_trees.push_back(config.fs_dir);
  return plan;
}

void enter_jail(const JailPlan& plan) {
  if (!plan.root.is_absolute()) fail("jail: {} is not an absolute path", plan.root.string());
  check_sys(::unshare(CLONE_NEWNS | CLONE_NEWIPC), "jail: unshare(CLONE_NEWNS | CLONE_NEWIPC)");
  // Nothing done here reaches the host; the host's later mounts and
  // unmounts in a shared tree still reach here.
  check_sys(::mount(nullptr, "/", nullptr, MS_REC | MS_SLAVE, nullptr),
            "jail: make the inherited mounts slaves");
  fs::create_directories(plan.root);
  const fs::path root = fs::canonical(plan.root);
  // pivot_root needs the new root to be a mount point.
  if (::mount(root.c_str(), root.c_str(), nullptr, MS_BIND, nullptr) != 0)
    throw_errno("jail: cannot bind " + root.string() + " onto itself");

  std::vector<Entry> entries;
  auto add = [&](const fs::path& p, Kind kind) {
    fs::path source = fs::absolute(p).lexically_normal();
    entries.push_back({source, root / source.relative_path(), kind});
  };
  for (const auto& p : plan.read_only_files) add(p, Kind::ReadOnlyFile);
  for (const auto& p : plan.devices) add(p, Kind::Device);
  for (const auto& p : plan.writable_dirs) add(p, Kind::WritableDir);
  for (const auto& p : plan.shared_trees) add(p, Kind::SharedTree);
  add("/proc/self/fd", Kind::ProcFds);
  // Parents before what lies inside them, which the later bind would hide.
  std::stable_sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return std::distance(a.target.begin(), a.target.end()) <
           std::distance(b.target.begin(), b.target.end());
  });
  for (const auto& e : entries) {
    // The jail must not end up inside itself through a path under it.
    if (std::mismatch(root.begin(), root.end(), e.source.begin(), e.source.end()).first ==
        root.end())
      fail("jail: {} lies inside the jail directory {}", e.source.string(), root.string());
    bind(e);
  }

  check_sys(::chdir(root.c_str()), "jail: chdir");
  // pivot_root(".", "."): the old root ends up stacked under the new one and
  // is then detached, so no path leads out of the jail.
  if (::syscall(SYS_pivot_root, ".", ".") != 0) throw_errno("jail: pivot_root to " + root.string());
  check_sys(::umount2(".", MNT_DETACH), "jail: detach the old root");
  check_sys(::chdir("/"), "jail: chdir /");
  check_sys(::mount(nullptr, "/", nullptr,
                    MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr),
            "jail: make the jail's root read-only");
}

}  // namespace vmrt::vmm::security
