#include "tests/root/agent/container/bundle.h"

#include <linux/magic.h>
#include <poll.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

namespace vmrt::test {

namespace fs = std::filesystem;

namespace {

const char* const kSpec = R"({
  "ociVersion": "1.0.2-dev",
  "process": {
    "terminal": false,
    "user": {"uid": 0, "gid": 0},
    "args": ["sh"],
    "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"],
    "cwd": "/",
    "capabilities": {
      "bounding": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
      "effective": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
      "permitted": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
      "ambient": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
    },
    "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
    "noNewPrivileges": true
  },
  "root": {"path": "rootfs", "readonly": true},
  "hostname": "runc",
  "mounts": [
    {"destination": "/proc", "type": "proc", "source": "proc"},
    {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
     "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
    {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
     "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]},
    {"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
     "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
    {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue",
     "options": ["nosuid", "noexec", "nodev"]},
    {"destination": "/sys", "type": "sysfs", "source": "sysfs",
     "options": ["nosuid", "noexec", "nodev", "ro"]}
  ],
  "linux": {
    "namespaces": [{"type": "pid"}, {"type": "network"}, {"type": "ipc"}, {"type": "uts"},
                   {"type": "mount"}],
    "maskedPaths": ["/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys",
                    "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
                    "/proc/sched_debug", "/sys/firmware", "/proc/scsi"],
    "readonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]
  }
})";

}  // namespace

Bundle::Bundle() : config(nlohmann::json::parse(kSpec)), dir_("vmrt-bundle") {
  fs::path root = rootfs();
  for (const char* d : {"bin", "proc", "sys", "dev", "tmp", "etc", "root"})
    fs::create_directories(root / d);
  fs::permissions(root / "tmp", fs::perms::all | fs::perms::sticky_bit);
  fs::copy_file("/bin/busybox", root / "bin" / "busybox");
  for (const char* applet : {"sh",  "cat",  "echo",     "id",    "ls",  "sleep", "hostname", "pwd",
                             "env", "grep", "mkdir",    "touch", "tty", "stty",  "head",     "wc",
                             "awk", "sort", "readlink", "true",  "tr",  "stat"})
    fs::create_symlink("busybox", root / "bin" / applet);
  std::ofstream(root / "etc" / "hostname") << "bundle\n";
}

void Bundle::write_config() const { std::ofstream(dir() / "config.json") << config.dump(2); }

Output read_streams(int out_fd, int err_fd, std::chrono::seconds limit) {
  Output o;
  pollfd fds[2] = {{out_fd, POLLIN, 0}, {err_fd, POLLIN, 0}};
  std::string* sinks[2] = {&o.out, &o.err};
  auto deadline = std::chrono::steady_clock::now() + limit;
  while ((fds[0].fd >= 0 || fds[1].fd >= 0) && std::chrono::steady_clock::now() < deadline) {
    if (::poll(fds, 2, 200) <= 0) continue;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !fds[i].revents) continue;
      char buf[4096];
      ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
      if (n <= 0)
        fds[i].fd = -1;  // EOF, or EIO on a pty master whose slave closed
      else
        sinks[i]->append(buf, static_cast<size_t>(n));
    }
  }
  return o;
}

std::string read_until(int fd, const std::string& needle) {
  std::string got;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (got.find(needle) == std::string::npos && std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 200) <= 0) continue;
    char buf[1024];
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;
    got.append(buf, static_cast<size_t>(n));
  }
  return got;
}

fs::path cgroup2_root() {
  struct statfs st;
  if (::statfs("/sys/fs/cgroup", &st) == 0 && st.f_type == CGROUP2_SUPER_MAGIC)
    return "/sys/fs/cgroup";
  return "/sys/fs/cgroup/unified";
}

bool cgroup_controller_available(const std::string& controller) {
  std::ifstream in(cgroup2_root() / "cgroup.controllers");
  std::string word;
  while (in >> word)
    if (word == controller) return true;
  return false;
}

}  // namespace vmrt::test
