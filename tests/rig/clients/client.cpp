#include "tests/rig/clients/client.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/mount.h>
#include <unistd.h>

#include <fstream>
#include <optional>
#include <sstream>
#include <thread>

#include "common/error.h"
#include "tests/rig/support/host_state.h"

namespace vmrt::clients_test {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

RunResult must(const std::vector<std::string>& argv, std::chrono::seconds timeout = 300s) {
  RunResult r = run_capture(argv, timeout);
  if (!r.status.success()) {
    std::string command;
    for (const auto& a : argv) command += " " + a;
    fail("{}: {}\n{}{}", command, r.timed_out ? "timed out" : r.status.to_string(), r.out, r.err);
  }
  return r;
}

// Unmounts whatever is mounted at or below `dir`, deepest first.
void unmount_under(const fs::path& dir) {
  std::vector<std::string> mounts = test::mounts_under(dir);
  for (auto it = mounts.rbegin(); it != mounts.rend(); ++it)
    ::umount2(test::mount_point(*it).c_str(), MNT_DETACH);
}

void write_file(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  if (!out.flush()) fail("cannot write {}", path.string());
}

// dockerd, its own containerd and the runc shim; `vmrt` registered as a
// runtime beside runc in daemon.json, as Docker's documentation has it.
class Docker : public Client {
 public:
  Docker() : Client("docker") {
    if (::mount("tmpfs", "/etc/docker", "tmpfs", 0, "mode=0755") != 0)
      throw_errno("mount a tmpfs on /etc/docker (dockerd writes its key there)");
    etc_mounted_ = true;
    write_daemon_json();
    fs::path log = dir() / "dockerd.log";
    log_fd_.reset(::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    SpawnOptions o;
    o.out = Stdio::to_fd(log_fd_.get());
    o.err = Stdio::to_fd(log_fd_.get());
    daemon_.emplace(
        Subprocess::spawn({"/usr/sbin/dockerd", "--config-file", (dir() / "daemon.json").string(),
                           "--data-root", (dir() / "data").string()},
                          o));
    auto deadline = std::chrono::steady_clock::now() + 120s;
    while (!run_capture({kDocker, "info"}, 30s).status.success()) {
      if (daemon_->wait_for(0ms) || std::chrono::steady_clock::now() > deadline)
        fail("dockerd did not start; its log:\n{}", test::read_text(log));
      std::this_thread::sleep_for(1s);
    }
    import_image();
  }

  ~Docker() override {
    if (daemon_) {
      RunResult ids = run_capture({kDocker, "ps", "-aq"}, 60s);
      std::vector<std::string> rm = {kDocker, "rm", "-f"};
      std::istringstream in(ids.out);
      for (std::string id; in >> id;) rm.push_back(id);
      if (rm.size() > 3) run_capture(rm, 300s);
      daemon_->kill(SIGTERM);
      if (!daemon_->wait_for(60s)) daemon_->kill(SIGKILL);
      daemon_.reset();
    }
    unmount_under(dir());
    if (etc_mounted_) ::umount2("/etc/docker", MNT_DETACH);
  }

  std::string init_program() const override { return "docker-init"; }
  fs::path vmrt_state_root() const override { return "/run/docker/runtime-vmrt/moby"; }

 protected:
  std::vector<std::string> command(const std::string& runtime,
                                   const std::vector<std::string>& args) const override {
    std::vector<std::string> argv = {kDocker};
    argv.insert(argv.end(), args.begin(), args.end());
    // The runtime is the container's, chosen when it is made.
    if (!args.empty() && (args[0] == "run" || args[0] == "create"))
      argv.insert(argv.begin() + 2, {"--runtime", runtime});
    return argv;
  }

 private:
  // /usr/local/bin may hold another docker CLI: Debian's is the one beside dockerd.
  static constexpr const char* kDocker = "/usr/bin/docker";

  void write_daemon_json() {
    write_file(
        dir() / "daemon.json",
        fmt::format(
            R"({{"runtimes": {{"vmrt": {{"path": "{}", "runtimeArgs": ["--config", "{}"]}}}}}})",
            VMRT_CLI, VMRT_DEV_CONFIG));
  }

  bool etc_mounted_ = false;
  UniqueFd log_fd_;
  std::optional<Subprocess> daemon_;
};

// podman with conmon, no daemon; each command names the runtime, a program
// path as podman's --runtime takes it. vmrt's is a two-line wrapper that adds
// the build tree's configuration (what /etc/vmrt/config.toml is to an
// installed vmrt): podman's exit command, which deletes the container, gets
// the runtime's path but not its flags.
class Podman : public Client {
 public:
  Podman() : Client("podman") {
    fs::create_directories(dir() / "netconf");
    write_file(dir() / "vmrt",
               fmt::format("#!/bin/sh\nexec {} --config {} \"$@\"\n", VMRT_CLI, VMRT_DEV_CONFIG));
    fs::permissions(dir() / "vmrt", fs::perms::owner_all);
    import_image();
  }

  ~Podman() override {
    run_capture(command("runc", {"rm", "--all", "--force", "--time", "0"}), 300s);
    unmount_under(dir());
  }

  // podman bind-mounts catatonit there.
  std::string init_program() const override { return "/run/podman-init"; }
  fs::path vmrt_state_root() const override { return "/run/vmrt"; }

 protected:
  std::vector<std::string> command(const std::string& runtime,
                                   const std::vector<std::string>& args) const override {
    std::vector<std::string> argv = {
        "podman", "--root", (dir() / "containers").string(), "--runroot", (dir() / "run").string(),
        "--tmpdir", (dir() / "libpod").string(), "--network-config-dir",
        (dir() / "netconf").string(),
        // No systemd in the rig: cgroups and events as without it.
        "--cgroup-manager", "cgroupfs", "--events-backend", "file", "--runtime",
        runtime == "vmrt" ? (dir() / "vmrt").string() : "/usr/sbin/runc"};
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
  }
};

}  // namespace

Client::Client(std::string name) : name_(std::move(name)), dir_("vmrt-" + name_, "/tmp") {}

Client::~Client() = default;

std::unique_ptr<Client> Client::make(const std::string& name) {
  if (name == "docker") return std::make_unique<Docker>();
  if (name == "podman") return std::make_unique<Podman>();
  fail("no client {}", name);
}

RunResult Client::run(const std::string& runtime, const std::vector<std::string>& args,
                      std::chrono::seconds timeout) const {
  return run_capture(command(runtime, args), timeout);
}

void Client::import_image() {
  fs::path rootfs = dir() / "rootfs";
  fs::create_directories(rootfs / "bin");
  fs::copy_file("/usr/bin/busybox", rootfs / "bin/busybox");
  std::istringstream applets(must({"/usr/bin/busybox", "--list"}).out);
  for (std::string a; applets >> a;)
    if (a != "busybox") fs::create_symlink("busybox", rootfs / "bin" / a);
  for (const char* d : {"etc", "proc", "sys", "dev", "tmp", "www", "data"})
    fs::create_directories(rootfs / d);
  write_file(rootfs / "www/index.html", kIndexHtml);
  write_file(rootfs / "etc/passwd", "root:x:0:0:root:/:/bin/sh\n");
  write_file(rootfs / "etc/group", "root:x:0:\n");
  must({"tar", "-C", rootfs.string(), "-cf", (dir() / "rootfs.tar").string(), "."});
  must(command("runc", {"import", (dir() / "rootfs.tar").string(), kImage}));
}

}  // namespace vmrt::clients_test
