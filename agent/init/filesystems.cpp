#include "agent/init/filesystems.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <sstream>
#include <string>

#include "common/error.h"
#include "common/fd.h"

namespace vmrt::agent::init {
namespace {

struct GuestMount {
  const char* source;
  const char* target;
  const char* type;
  unsigned long flags;
  const char* data;
};

constexpr unsigned long kNoDevExec = MS_NOSUID | MS_NODEV | MS_NOEXEC;

// In order: each target lies on a mount made before it.
constexpr GuestMount kMounts[] = {
    {"proc", "/proc", "proc", kNoDevExec, nullptr},
    {"sysfs", "/sys", "sysfs", kNoDevExec, nullptr},
    {"devtmpfs", "/dev", "devtmpfs", MS_NOSUID | MS_NOEXEC, "mode=0755"},
    // ptmxmode: /dev/ptmx (a link to pts/ptmx below) must be usable by the
    // agent to allocate container terminals.
    {"devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "gid=5,mode=0620,ptmxmode=0666"},
    {"shm", "/dev/shm", "tmpfs", kNoDevExec, "mode=1777"},
    {"cgroup2", "/sys/fs/cgroup", "cgroup2", kNoDevExec, "nsdelegate"},
    {"tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755"},
};

void mount_one(const GuestMount& m) {
  if (::mkdir(m.target, 0755) < 0 && errno != EEXIST) throw_errno(std::string("mkdir ") + m.target);
  if (::mount(m.source, m.target, m.type, m.flags, m.data) == 0) return;
  if (errno == EBUSY) {
    spdlog::debug("{} already mounted", m.target);
    return;
  }
  throw_errno(fmt::format("mount {} on {}", m.type, m.target));
}

// Every controller the kernel offers at the root is handed down, so that
// container cgroups below can set memory.max, cpu.max, pids.max, io limits.
void enable_cgroup_controllers() {
  std::ifstream in("/sys/fs/cgroup/cgroup.controllers");
  if (!in) fail("cannot read /sys/fs/cgroup/cgroup.controllers");
  std::string controllers;
  std::getline(in, controllers);
  std::istringstream words(controllers);
  std::string c;
  while (words >> c) {
    // One write per controller: a controller the kernel refuses (e.g. one
    // that needs a feature missing from this kernel) does not stop the rest.
    std::ofstream out("/sys/fs/cgroup/cgroup.subtree_control");
    out << "+" << c;
    out.flush();
    if (!out) spdlog::warn("cannot enable cgroup controller {}", c);
  }
  spdlog::debug("cgroup controllers: {}", controllers);
}

}  // namespace

void mount_guest_filesystems() {
  for (const GuestMount& m : kMounts) mount_one(m);
  // Not mounted by devtmpfs: the links programs expect in /dev.
  for (auto [target, link] : {std::pair{"pts/ptmx", "/dev/ptmx"},
                              {"/proc/self/fd", "/dev/fd"},
                              {"/proc/self/fd/0", "/dev/stdin"},
                              {"/proc/self/fd/1", "/dev/stdout"},
                              {"/proc/self/fd/2", "/dev/stderr"}}) {
    ::unlink(link);
    if (::symlink(target, link) < 0) throw_errno(std::string("symlink ") + link);
  }
  enable_cgroup_controllers();
}

void attach_console() {
  if (::fcntl(STDERR_FILENO, F_GETFD) >= 0) return;
  UniqueFd console(::open("/dev/console", O_RDWR | O_NOCTTY));
  if (!console) return;  // nowhere to log; the agent still serves
  for (int fd = 0; fd <= 2; ++fd)
    if (::fcntl(fd, F_GETFD) < 0) ::dup2(console.get(), fd);
  if (console.get() <= 2) console.release();
}

}  // namespace vmrt::agent::init
