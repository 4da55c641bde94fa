#pragma once
// The container's filesystem view: the rootfs (a bind mount, or an overlay
// with a tmpfs upper layer), the spec's mounts, /dev, pivot_root, masked and
// read-only paths, a read-only root.

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <vector>

#include "common/oci/spec.h"

namespace vmrt::agent {

class Child;

// A path inside the rootfs, with what creating it takes: "dev/pts" has the
// prefixes "dev", "dev/pts" whose last components are "dev", "pts".
struct RootPath {
  std::string path;  // relative to the rootfs, normalised, never empty
  std::vector<std::string> prefixes;
  std::vector<std::string> names;
};

// Mount options (the strings of mounts[].options) split into what mount(2)
// takes.
struct MountOptions {
  unsigned long flags = 0;                 // MS_* to set
  std::vector<unsigned long> propagation;  // MS_SHARED, MS_SLAVE ... (| MS_REC), in order
  std::string data;                        // the rest, comma-joined: "mode=755,size=64k"
  bool bind = false, recursive = false;    // bind / rbind
  bool copy_up = false;                    // tmpcopyup: a tmpfs starts as a copy of what it covers
};

struct MountStep {
  std::string source;  // binds: absolute host path; others: the device name
  RootPath target;
  std::string type;  // "" for binds
  MountOptions options;
  // A bind whose flags (ro, nosuid ...) only take effect by a remount.
  bool remount = false;
};

struct DeviceNode {
  RootPath path;
  mode_t mode = 0;  // S_IF* | permissions
  dev_t dev = 0;
  uid_t uid = 0;
  gid_t gid = 0;
};

struct MountPlan {
  std::string rootfs;  // the host path of the rootfs
  bool readonly = false;
  unsigned long root_propagation = 0;   // for the whole new namespace before setup
  unsigned long final_propagation = 0;  // for "/" after pivot_root (shared kinds); 0: none
  // Overlay (when asked for and root.readonly is false): a tmpfs at
  // overlay_tmpfs holds upper/ and work/; the overlay is mounted at `root`.
  bool overlay = false;
  std::string overlay_tmpfs, overlay_upper, overlay_work, overlay_data;
  std::string root;  // where the container's root is mounted: rootfs itself or the overlay
  std::vector<MountStep> mounts;
  bool dev_tmpfs = false;  // the spec mounts /dev: fill it (default devices, symlinks, ptmx)
  std::vector<DeviceNode> devices;
  std::vector<std::string> masked, readonly_paths;  // absolute, inside the container
};

// Throws vmrt::Error naming the option: `where` is its JSON path.
MountOptions parse_mount_options(const oci::Strings& options, const std::string& where);

// Normalises `path` (absolute, or relative to the root) to a RootPath; ".."
// cannot climb above the root. Throws when it names the root itself.
RootPath root_path(const std::string& path, const std::string& where);

// overlay_dir: an empty directory of the caller's for the overlay's tmpfs and
// mount point (used only when overlay is set and root.readonly is false).
MountPlan plan_mounts(const oci::Spec& spec, const std::filesystem::path& rootfs,
                      const std::filesystem::path& bundle, bool overlay,
                      const std::filesystem::path& overlay_dir);

// Child, before pivot_root: mounts the root and everything below it, creates
// devices. Returns an O_PATH descriptor of the new root.
int setup_rootfs(const Child& child, const MountPlan& plan);
// Child: makes `rootfd` the root (pivot_root; MS_MOVE + chroot when the
// current root is an initramfs, which pivot_root cannot leave).
void enter_rootfs(const Child& child, int rootfd);
// Child, after enter_rootfs: masked and read-only paths, read-only root.
void finish_rootfs(const Child& child, const MountPlan& plan);

}  // namespace vmrt::agent
