#include "agent/container/mounts.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <map>
#include <set>

#include "agent/container/child.h"
#include "agent/container/copy_up.h"
#include "common/error.h"

namespace vmrt::agent {

namespace {

namespace fs = std::filesystem;

struct FlagOption {
  bool clear;
  unsigned long flag;
};

// The mount(8) option names that are flags rather than filesystem data.
const std::map<std::string, FlagOption> kFlags = {
    {"defaults", {false, 0}},
    {"ro", {false, MS_RDONLY}},
    {"rw", {true, MS_RDONLY}},
    {"nosuid", {false, MS_NOSUID}},
    {"suid", {true, MS_NOSUID}},
    {"nodev", {false, MS_NODEV}},
    {"dev", {true, MS_NODEV}},
    {"noexec", {false, MS_NOEXEC}},
    {"exec", {true, MS_NOEXEC}},
    {"sync", {false, MS_SYNCHRONOUS}},
    {"async", {true, MS_SYNCHRONOUS}},
    {"dirsync", {false, MS_DIRSYNC}},
    {"remount", {false, MS_REMOUNT}},
    {"mand", {false, MS_MANDLOCK}},
    {"nomand", {true, MS_MANDLOCK}},
    {"noatime", {false, MS_NOATIME}},
    {"atime", {true, MS_NOATIME}},
    {"nodiratime", {false, MS_NODIRATIME}},
    {"diratime", {true, MS_NODIRATIME}},
    {"relatime", {false, MS_RELATIME}},
    {"norelatime", {true, MS_RELATIME}},
    {"strictatime", {false, MS_STRICTATIME}},
    {"nostrictatime", {true, MS_STRICTATIME}},
    {"nosymfollow", {false, MS_NOSYMFOLLOW}},
    {"symfollow", {true, MS_NOSYMFOLLOW}},
};

const std::map<std::string, unsigned long> kPropagation = {
    {"private", MS_PRIVATE},       {"rprivate", MS_PRIVATE | MS_REC},
    {"shared", MS_SHARED},         {"rshared", MS_SHARED | MS_REC},
    {"slave", MS_SLAVE},           {"rslave", MS_SLAVE | MS_REC},
    {"unbindable", MS_UNBINDABLE}, {"runbindable", MS_UNBINDABLE | MS_REC},
};

// Options that ask for something this runtime does not do; refused rather
// than silently ignored.
const std::set<std::string> kUnsupported = {"idmap", "ridmap", "rro", "rrw"};

struct DefaultDevice {
  const char* path;
  unsigned major, minor;
};
const DefaultDevice kDefaultDevices[] = {{"/dev/null", 1, 3},    {"/dev/zero", 1, 5},
                                         {"/dev/full", 1, 7},    {"/dev/random", 1, 8},
                                         {"/dev/urandom", 1, 9}, {"/dev/tty", 5, 0}};

// Symlinks every /dev gets (target, name in /dev).
const char* const kDevLinks[][2] = {{"/proc/self/fd", "fd"},
                                    {"/proc/self/fd/0", "stdin"},
                                    {"/proc/self/fd/1", "stdout"},
                                    {"/proc/self/fd/2", "stderr"},
                                    {"pts/ptmx", "ptmx"}};

// Flags a bind remount may change; the rest of mount(2)'s flags are not
// per-mount-point.
constexpr unsigned long kRemountable = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME |
                                       MS_NODIRATIME | MS_RELATIME | MS_STRICTATIME |
                                       MS_NOSYMFOLLOW;

mode_t device_type(const std::string& type) {
  if (type == "b") return S_IFBLK;
  if (type == "p") return S_IFIFO;
  return S_IFCHR;  // "c" and "u" (unbuffered character device)
}

bool is_dir(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// mount(2) with EINTR retried (a FUSE-backed source can be interrupted).
int do_mount(const char* source, const char* target, const char* type, unsigned long flags,
             const char* data) {
  int r;
  do r = ::mount(source, target, type, flags, data);
  while (r < 0 && errno == EINTR);
  return r;
}

// Opens (creating what is missing) `p` inside the root: directories on the
// way, and at the end a directory, or an empty file when `file` is set.
int open_target(int rootfd, const RootPath& p, bool file) {
  size_t n = p.prefixes.size();
  for (size_t i = 0; i < n; ++i) {
    bool last = i + 1 == n;
    int fd = open_in_root(rootfd, p.prefixes[i].c_str(), O_PATH);
    if (fd < 0 && errno == ENOENT) {
      int parent =
          open_in_root(rootfd, i == 0 ? "." : p.prefixes[i - 1].c_str(), O_PATH | O_DIRECTORY);
      if (parent < 0) return -1;
      int r;
      if (file && last) {
        r = ::openat(parent, p.names[i].c_str(), O_CREAT | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (r >= 0) ::close(r);
      } else {
        r = ::mkdirat(parent, p.names[i].c_str(), 0755);
      }
      int err = errno;
      ::close(parent);
      if (r < 0 && err != EEXIST) {
        errno = err;
        return -1;
      }
      // A dangling symlink stays ENOENT here: an error, not a loop.
      fd = open_in_root(rootfd, p.prefixes[i].c_str(), O_PATH);
    }
    if (fd < 0 || last) return fd;
    ::close(fd);
  }
  errno = EINVAL;
  return -1;
}

// A bind remount keeps the flags the kernel locked on the mount (nosuid,
// nodev ... inherited from the source); adding them avoids EPERM.
int remount(const char* target, unsigned long flags) {
  if (do_mount(nullptr, target, nullptr, MS_BIND | MS_REMOUNT | flags, nullptr) == 0) return 0;
  struct statvfs st;
  if (errno != EPERM || ::statvfs(target, &st) < 0) return -1;
  unsigned long locked = st.f_flag & (ST_NOSUID | ST_NODEV | ST_NOEXEC | ST_RDONLY);
  return do_mount(nullptr, target, nullptr, MS_BIND | MS_REMOUNT | flags | locked, nullptr);
}

void mount_one(const Child& child, int rootfd, const MountStep& m, int index) {
  bool file = m.options.bind && !is_dir(m.source);
  int fd = open_target(rootfd, m.target, file);
  if (fd < 0) child.fail(Step::MountTarget, index);
  unsigned long flags = m.options.flags;
  const char* data = m.options.data.empty() ? nullptr : m.options.data.c_str();
  int r = m.options.bind
              ? do_mount(m.source.c_str(), FdPath(fd).c_str(), nullptr,
                         MS_BIND | (m.options.recursive ? MS_REC : 0), nullptr)
              : do_mount(m.source.c_str(), FdPath(fd).c_str(), m.type.c_str(), flags, data);
  if (r < 0) child.fail(Step::Mount, index);
  if (m.options.copy_up) {
    // `fd` still names the covered directory; the new mount is the target now.
    int mounted = open_in_root(rootfd, m.target.path.c_str(), O_RDONLY | O_DIRECTORY);
    if (mounted < 0) child.fail(Step::MountCopyUp, index);
    int err = copy_up(fd, mounted);
    ::close(mounted);
    if (err) child.fail_with(Step::MountCopyUp, index, err);
  }
  ::close(fd);
  if (!m.remount && m.options.propagation.empty()) return;
  // The descriptor opened before mounting names the covered directory; open
  // the new mount's root.
  fd = open_in_root(rootfd, m.target.path.c_str(), O_PATH);
  if (fd < 0) child.fail(Step::MountTarget, index);
  if (m.remount && remount(FdPath(fd).c_str(), flags & kRemountable) < 0)
    child.fail(Step::MountRemount, index);
  for (unsigned long p : m.options.propagation)
    if (do_mount(nullptr, FdPath(fd).c_str(), nullptr, p, nullptr) < 0)
      child.fail(Step::MountPropagation, index);
  ::close(fd);
}

void make_device(const Child& child, int rootfd, const DeviceNode& d, int index) {
  size_t n = d.path.prefixes.size();
  // Missing parent directories are made, as runc makes them: a privileged
  // pod's spec lists every host device (/dev/input/mice, /dev/net/tun ...)
  // over a /dev tmpfs that has none of their directories. Each is made in
  // the one resolved in the root before it, so a symlink cannot lead out.
  for (size_t i = 0; i + 1 < n; ++i) {
    int up =
        open_in_root(rootfd, i == 0 ? "." : d.path.prefixes[i - 1].c_str(), O_PATH | O_DIRECTORY);
    if (up < 0) break;  // the parent's open below reports it
    int made = ::mkdirat(up, d.path.names[i].c_str(), 0755);
    ::close(up);
    if (made < 0 && errno != EEXIST) break;
  }
  // The parent directory, then the node relative to it.
  int parent =
      open_in_root(rootfd, n == 1 ? "." : d.path.prefixes[n - 2].c_str(), O_PATH | O_DIRECTORY);
  if (parent < 0) child.fail(Step::Device, index);
  const char* name = d.path.names[n - 1].c_str();
  ::unlinkat(parent, name, 0);  // the spec's entry replaces a default one
  if (::mknodat(parent, name, d.mode, d.dev) < 0 ||
      ::fchownat(parent, name, d.uid, d.gid, AT_SYMLINK_NOFOLLOW) < 0 ||
      ::fchmodat(parent, name, d.mode & 07777, 0) < 0) {
    int err = errno;
    ::close(parent);
    child.fail_with(Step::Device, index, err);
  }
  ::close(parent);
}

}  // namespace

MountOptions parse_mount_options(const oci::Strings& options, const std::string& where) {
  MountOptions out;
  for (size_t i = 0; i < options.size(); ++i) {
    const std::string& o = options[i];
    if (auto f = kFlags.find(o); f != kFlags.end()) {
      if (f->second.clear)
        out.flags &= ~f->second.flag;
      else
        out.flags |= f->second.flag;
    } else if (auto p = kPropagation.find(o); p != kPropagation.end()) {
      out.propagation.push_back(p->second);
    } else if (o == "bind" || o == "rbind") {
      out.bind = true;
      out.recursive = out.recursive || o == "rbind";
    } else if (o == "tmpcopyup") {
      out.copy_up = true;
    } else if (kUnsupported.count(o)) {
      fail("{}[{}]: mount option \"{}\" is not supported", where, i, o);
    } else if (o.empty() || o.find(',') != std::string::npos) {
      fail("{}[{}]: \"{}\" is not a single mount option", where, i, o);
    } else if (o.rfind("x-", 0) == 0) {
      // Options for userspace helpers (x-systemd.*): not the kernel's.
    } else {
      if (!out.data.empty()) out.data += ',';
      out.data += o;
    }
  }
  return out;
}

RootPath root_path(const std::string& path, const std::string& where) {
  std::string norm = fs::path("/" + path).lexically_normal().string();
  while (norm.size() > 1 && norm.back() == '/') norm.pop_back();
  if (norm == "/") fail("{}: \"{}\" names the container's root", where, path);
  RootPath p;
  p.path = norm.substr(1);
  for (size_t pos = 0;;) {
    size_t slash = p.path.find('/', pos);
    p.prefixes.push_back(p.path.substr(0, slash));
    p.names.push_back(p.path.substr(pos, slash == std::string::npos ? slash : slash - pos));
    if (slash == std::string::npos) break;
    pos = slash + 1;
  }
  return p;
}

MountPlan plan_mounts(const oci::Spec& spec, const fs::path& rootfs, const fs::path& bundle,
                      bool overlay, const fs::path& overlay_dir) {
  MountPlan plan;
  plan.rootfs = rootfs.lexically_normal().string();
  plan.readonly = spec.root.readonly;
  plan.root_propagation = MS_SLAVE | MS_REC;
  if (const std::string& p = spec.linux.rootfs_propagation; !p.empty()) {
    unsigned long flag = kPropagation.at(p);
    // pivot_root refuses a shared parent mount: set shared propagation up
    // once the root is in place.
    if (flag & MS_SHARED)
      plan.final_propagation = flag;
    else
      plan.root_propagation = flag;
  }
  plan.root = plan.rootfs;
  // A read-only root gets one too when asked: the host shares such a rootfs
  // read-only, and the mount points and device nodes then go to the upper
  // layer before the final remount makes the whole root read-only.
  if (overlay) {
    plan.overlay = true;
    plan.overlay_tmpfs = (overlay_dir / "rw").string();
    plan.overlay_upper = (overlay_dir / "rw" / "upper").string();
    plan.overlay_work = (overlay_dir / "rw" / "work").string();
    plan.root = (overlay_dir / "rootfs").string();
    for (const std::string& p : {plan.rootfs, plan.overlay_upper})
      if (p.find_first_of(",:\\") != std::string::npos)
        fail("root.path: an overlay cannot use the path {} (it contains ',', ':' or '\\')", p);
    plan.overlay_data = fmt::format("lowerdir={},upperdir={},workdir={}", plan.rootfs,
                                    plan.overlay_upper, plan.overlay_work);
  }

  for (size_t i = 0; i < spec.mounts.size(); ++i) {
    const oci::Mount& m = spec.mounts[i];
    std::string where = fmt::format("mounts[{}]", i);
    if (!m.uid_mappings.empty() || !m.gid_mappings.empty())
      fail("{}: idmapped mounts are not supported", where);
    MountStep step;
    step.target = root_path(m.destination, where + ".destination");
    step.options = parse_mount_options(m.options, where + ".options");
    if (m.type == "bind") step.options.bind = true;
    if (step.options.bind) {
      if (m.source.empty()) fail("{}.source: a bind mount needs a source", where);
      fs::path src(m.source);
      step.source = (src.is_absolute() ? src : bundle / src).lexically_normal().string();
      step.remount = (step.options.flags & kRemountable) != 0;
    } else {
      if (m.type.empty()) fail("{}.type: a mount that is not a bind needs a type", where);
      // cgroup v1 does not exist here: a "cgroup" mount is the v2 hierarchy.
      step.type = m.type == "cgroup" ? "cgroup2" : m.type;
      if (step.options.copy_up && step.type != "tmpfs")
        fail("{}.options: tmpcopyup applies to tmpfs mounts, not {}", where, m.type);
      step.source = m.source.empty() ? step.type : m.source;
    }
    if (step.target.path == "dev") plan.dev_tmpfs = true;
    plan.mounts.push_back(std::move(step));
  }

  std::map<std::string, DeviceNode> devices;  // by path: the spec's replace the defaults
  std::vector<std::string> order;
  auto add = [&](const std::string& path, DeviceNode d) {
    if (!devices.count(path)) order.push_back(path);
    devices[path] = std::move(d);
  };
  if (plan.dev_tmpfs)
    for (const DefaultDevice& d : kDefaultDevices)
      add(d.path, {root_path(d.path, "device"), S_IFCHR | 0666, makedev(d.major, d.minor), 0, 0});
  for (size_t i = 0; i < spec.linux.devices.size(); ++i) {
    const oci::Device& d = spec.linux.devices[i];
    std::string where = fmt::format("linux.devices[{}]", i);
    if (d.major < 0 || d.minor < 0) fail("{}: negative device number", where);
    if (d.file_mode && (*d.file_mode & ~07777u))
      fail("{}.fileMode: {:o} is not a permission mode", where, *d.file_mode);
    add(d.path,
        {root_path(d.path, where + ".path"), device_type(d.type) | d.file_mode.value_or(0666),
         d.type == "p" ? 0 : makedev(d.major, d.minor), d.uid.value_or(0), d.gid.value_or(0)});
  }
  for (const std::string& path : order) plan.devices.push_back(devices[path]);

  for (size_t i = 0; i < spec.linux.masked_paths.size(); ++i)
    plan.masked.push_back(
        "/" + root_path(spec.linux.masked_paths[i], fmt::format("linux.maskedPaths[{}]", i)).path);
  for (size_t i = 0; i < spec.linux.readonly_paths.size(); ++i)
    plan.readonly_paths.push_back(
        "/" +
        root_path(spec.linux.readonly_paths[i], fmt::format("linux.readonlyPaths[{}]", i)).path);
  return plan;
}

int setup_rootfs(const Child& child, const MountPlan& plan) {
  // Nothing mounted from here on propagates back to the agent's namespace.
  if (do_mount(nullptr, "/", nullptr, plan.root_propagation, nullptr) < 0)
    child.fail(Step::RootPropagation);
  if (plan.overlay) {
    if (do_mount("tmpfs", plan.overlay_tmpfs.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") <
        0)
      child.fail(Step::OverlayTmpfs);
    if (::mkdir(plan.overlay_upper.c_str(), 0755) < 0 ||
        ::mkdir(plan.overlay_work.c_str(), 0755) < 0)
      child.fail(Step::OverlayDirs);
    if (do_mount("overlay", plan.root.c_str(), "overlay", 0, plan.overlay_data.c_str()) < 0)
      child.fail(Step::Overlay);
  } else if (do_mount(plan.rootfs.c_str(), plan.root.c_str(), nullptr, MS_BIND | MS_REC, nullptr) <
             0) {
    child.fail(Step::RootBind);
  }
  int rootfd = ::open(plan.root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0) child.fail(Step::RootBind);

  for (size_t i = 0; i < plan.mounts.size(); ++i)
    mount_one(child, rootfd, plan.mounts[i], static_cast<int>(i));
  for (size_t i = 0; i < plan.devices.size(); ++i)
    make_device(child, rootfd, plan.devices[i], static_cast<int>(i));
  if (plan.dev_tmpfs) {
    int dev = open_in_root(rootfd, "dev", O_PATH | O_DIRECTORY);
    if (dev < 0) child.fail(Step::DevSymlink);
    for (size_t i = 0; i < std::size(kDevLinks); ++i) {
      ::unlinkat(dev, kDevLinks[i][1], 0);
      if (::symlinkat(kDevLinks[i][0], dev, kDevLinks[i][1]) < 0)
        child.fail(Step::DevSymlink, static_cast<int>(i));
    }
    // As runc: /dev/core where the kernel has /proc/kcore.
    if (::access("/proc/kcore", F_OK) == 0 && ::symlinkat("/proc/kcore", dev, "core") < 0 &&
        errno != EEXIST)
      child.fail(Step::DevSymlink);
    ::close(dev);
  }
  return rootfd;
}

void enter_rootfs(const Child& child, int rootfd) {
  int oldroot = ::open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  if (oldroot < 0 || ::fchdir(rootfd) < 0) child.fail(Step::PivotRoot);
  // pivot_root(".", "."): the old root ends up on top of the new one, where
  // it is detached, so no put_old directory is needed in the rootfs.
  if (::syscall(SYS_pivot_root, ".", ".") == 0) {
    if (::fchdir(oldroot) < 0 || do_mount(nullptr, ".", nullptr, MS_SLAVE | MS_REC, nullptr) < 0 ||
        ::umount2(".", MNT_DETACH) < 0)
      child.fail(Step::PivotRoot);
  } else if (errno == EINVAL) {
    // The current root is the initramfs (rootfs), which cannot be unmounted
    // and so cannot be pivoted away from: move the new root over it.
    if (do_mount(".", "/", nullptr, MS_MOVE, nullptr) < 0 || ::chroot(".") < 0)
      child.fail(Step::PivotRoot);
  } else {
    child.fail(Step::PivotRoot);
  }
  if (::chdir("/") < 0) child.fail(Step::PivotRoot);
  ::close(oldroot);
  ::close(rootfd);
}

void finish_rootfs(const Child& child, const MountPlan& plan) {
  for (size_t i = 0; i < plan.masked.size(); ++i) {
    const char* path = plan.masked[i].c_str();
    int r = is_dir(plan.masked[i]) ? do_mount("tmpfs", path, "tmpfs", MS_RDONLY, "size=0,mode=0555")
                                   : do_mount("/dev/null", path, nullptr, MS_BIND, nullptr);
    if (r < 0 && errno != ENOENT) child.fail(Step::MaskedPath, static_cast<int>(i));
  }
  for (size_t i = 0; i < plan.readonly_paths.size(); ++i) {
    const char* path = plan.readonly_paths[i].c_str();
    if (do_mount(path, path, nullptr, MS_BIND | MS_REC, nullptr) < 0) {
      if (errno == ENOENT) continue;
      child.fail(Step::ReadonlyPath, static_cast<int>(i));
    }
    if (remount(path, MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC) < 0)
      child.fail(Step::ReadonlyPath, static_cast<int>(i));
  }
  if (plan.readonly && remount("/", MS_RDONLY) < 0) child.fail(Step::RootReadonly);
  if (plan.final_propagation &&
      do_mount(nullptr, "/", nullptr, plan.final_propagation, nullptr) < 0)
    child.fail(Step::RootPropagation);
}

}  // namespace vmrt::agent
