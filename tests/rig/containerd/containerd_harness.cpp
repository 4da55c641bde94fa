#include "tests/rig/containerd/containerd_harness.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include "common/error.h"
#include "common/fd.h"
#include "tests/rig/support/host_state.h"

namespace vmrt::containerd_test {

using namespace std::chrono_literals;
using vmrt::test::read_text;

namespace {

// containerd 1.6 puts every shim's ttrpc socket here, whatever its own state
// directory (runtime/v2/shim: SocketAddress).
const std::filesystem::path kShimSocketDir = "/run/containerd/s";

void run_checked(const std::vector<std::string>& argv, std::chrono::seconds timeout = 120s) {
  RunResult r = run_capture(argv, timeout);
  if (!r.status.success() || r.timed_out) {
    std::string cmd;
    for (const auto& a : argv) cmd += (cmd.empty() ? "" : " ") + a;
    fail("{}: {}{}\n{}", cmd, r.timed_out ? "timed out, " : "", r.status.to_string(), r.err);
  }
}

// "docker.io/library/busybox:vmrt-test" -> {"docker.io/library/busybox", "vmrt-test"}.
std::pair<std::string, std::string> split_reference(const std::string& ref) {
  size_t colon = ref.rfind(':');
  return {ref.substr(0, colon), ref.substr(colon + 1)};
}

// An OCI image layout with one layer (the tree `rootfs`) and the given
// `umoci config` flags, archived as `ctr images import` reads it. The
// layout's index names the image by its tag only; the import adds the rest
// of the reference (--base-name).
std::filesystem::path build_image(const std::filesystem::path& work, const std::string& reference,
                                  const std::filesystem::path& rootfs,
                                  const std::vector<std::string>& config_flags) {
  auto [name, tag] = split_reference(reference);
  std::string file = std::filesystem::path(name).filename().string();
  std::filesystem::path layout = work / (file + ".layout"), archive = work / (file + ".tar");
  std::string image = layout.string() + ":" + tag;
  run_checked({"umoci", "init", "--layout", layout.string()});
  run_checked({"umoci", "new", "--image", image});
  run_checked({"umoci", "insert", "--image", image, rootfs.string(), "/"});
  std::vector<std::string> config = {"umoci", "config", "--image", image};
  config.insert(config.end(), config_flags.begin(), config_flags.end());
  run_checked(config);
  // `config` leaves the manifest it replaced behind.
  run_checked({"umoci", "gc", "--layout", layout.string()});
  run_checked({"tar", "-C", layout.string(), "-cf", archive.string(), "."});
  return archive;
}

struct ImageArchives {
  std::filesystem::path busybox, pause;
};

// Built once per test process: umoci is quick on a host, less so under the
// rig's emulated CPU, and every Containerd imports the same two images.
const ImageArchives& image_archives() {
  static TempDir work("vmrt-images", "/tmp");
  static const ImageArchives archives = [] {
    ImageArchives a;
    vmrt::test::make_busybox_rootfs(work.path() / "busybox-rootfs");
    a.busybox = build_image(work.path(), kBusyboxImage, work.path() / "busybox-rootfs",
                            {"--config.cmd", "sh", "--config.env",
                             "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"});
    std::filesystem::create_directories(work.path() / "pause-rootfs");
    std::filesystem::copy_file(VMRT_TEST_PAUSE, work.path() / "pause-rootfs/pause");
    a.pause = build_image(work.path(), kPauseImage, work.path() / "pause-rootfs",
                          {"--config.entrypoint", "/pause"});
    return a;
  }();
  return archives;
}

// overlayfs needs a filesystem it can stack on (tmpfs and ext4 are; 9p and
// overlayfs itself are not): try a mount, else fall back to the native
// snapshotter, which copies whole trees but works anywhere.
std::string pick_snapshotter(const std::filesystem::path& dir) {
  std::filesystem::path probe = dir / "overlay-probe";
  for (const char* d : {"lower", "upper", "work", "merged"})
    std::filesystem::create_directories(probe / d);
  std::string options =
      fmt::format("lowerdir={0}/lower,upperdir={0}/upper,workdir={0}/work", probe.string());
  bool works = ::mount("overlay", (probe / "merged").c_str(), "overlay", 0, options.c_str()) == 0;
  if (works) ::umount2((probe / "merged").c_str(), MNT_DETACH);
  std::filesystem::remove_all(probe);
  return works ? "overlayfs" : "native";
}

std::set<std::filesystem::path> directory_entries(const std::filesystem::path& dir) {
  std::set<std::filesystem::path> found;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) found.insert(e.path());
  return found;
}

// A Unix socket nobody accepts on any more (its server is gone).
bool stale_socket(const std::filesystem::path& path) {
  if (!std::filesystem::is_socket(path)) return false;
  UniqueFd s(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (!s || path.string().size() >= sizeof addr.sun_path) return false;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  return ::connect(s.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0 &&
         errno == ECONNREFUSED;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) lines.push_back(line);
  return lines;
}

// The last `n` non-empty lines of `text`, each ending in '\n'.
std::string last_lines(const std::string& text, size_t n) {
  std::vector<std::string> all = lines_of(text);
  std::string tail;
  for (size_t i = all.size() > n ? all.size() - n : 0; i < all.size(); ++i) tail += all[i] + "\n";
  return tail;
}

int pid_of(const std::string& process_line) { return std::stoi(process_line); }

}  // namespace

// Under /tmp: in the rig that is a private tmpfs (overlayfs works on it),
// while the host's root, where the build tree is, is read-only there. The
// name is short because shims may put sockets below containerd's state
// directory, and a socket path has at most 107 bytes.
Containerd::Containerd(Options options)
    : options_(std::move(options)), dir_("ctrd", "/tmp"), snapshotter_(pick_snapshotter(dir())) {
  for (const auto& p : vmrt::test::processes_named("/vmrt-vmm")) vmms_before_.insert(p);
  sockets_before_ = directory_entries(kShimSocketDir);
  netns_before_ = directory_entries("/run/netns");
  write_config();
  start_daemon();
  watchdog_report_.emplace("containerd and its pod VMs", [this] { return hang_report(); });
  wait_until_ready();
  import_images(ns());
}

void Containerd::start_daemon() {
  SpawnOptions o;
  o.extra_env = extra_env();
  // The shim's directory first: containerd finds containerd-shim-vmrt-v1
  // in its PATH, and its shims inherit its environment (VMRT_CONFIG).
  o.extra_env.push_back(
      fmt::format("PATH={}:{}", std::filesystem::path(VMRT_SHIM).parent_path().string(),
                  ::getenv("PATH") ? ::getenv("PATH") : "/usr/sbin:/usr/bin:/sbin:/bin"));
  o.extra_env.push_back(std::string("VMRT_CONFIG=") + VMRT_DEV_CONFIG);
  // vmrt's shims keep their per-pod state (socket, VM directory) in here,
  // where leftovers() sees it and the destructor removes it.
  o.extra_env.push_back("VMRT_SHIM_ROOT=" + shim_root().string());
  UniqueFd log(check_sys(
      ::open(log_path().c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644), "open log"));
  o.out = o.err = Stdio::to_fd(log.get());
  // containerd must not outlive a test process that dies without cleaning up.
  o.parent_death_signal = SIGKILL;
  containerd_.emplace(
      Subprocess::spawn({"containerd", "--config", (dir() / "config.toml").string()}, o));
}

void Containerd::restart() {
  containerd_->kill(SIGTERM);
  if (!containerd_->wait_for(30s)) fail("containerd did not stop within 30 s of SIGTERM");
  start_daemon();
  wait_until_ready();
}

std::vector<int> Containerd::shim_pids() const {
  std::vector<int> pids;
  for (const auto& p : shims()) pids.push_back(pid_of(p));
  return pids;
}

std::vector<std::filesystem::path> Containerd::remove_stale_shim_sockets() const {
  std::vector<std::filesystem::path> removed;
  for (const auto& s : new_shim_sockets()) {
    std::error_code ec;
    if (stale_socket(s) && std::filesystem::remove(s, ec)) removed.push_back(s);
  }
  return removed;
}

std::vector<int> Containerd::vmm_pids() const {
  std::vector<int> pids;
  for (const auto& p : vmrt::test::vmm_processes())
    if (!vmms_before_.count(p)) pids.push_back(pid_of(p));
  return pids;
}

Containerd::~Containerd() {
  try {
    if (containerd_ && !containerd_->wait_for(0ms)) delete_remaining_tasks();
  } catch (const std::exception&) {
    // Best effort: the kills below are the fallback.
  }
  if (containerd_) {
    containerd_->kill(SIGTERM);
    if (!containerd_->wait_for(10s)) {
      containerd_->kill(SIGKILL);
      containerd_->wait();
    }
  }
  try {
    // Shims outlive containerd by design (it reconnects on restart): these
    // are ours alone and would keep their containers and VMs running.
    kill_shims();
    // Deepest first: a mount on top of another comes later in mountinfo.
    for (int round = 0; round < 3; ++round) {
      std::vector<std::string> mounts = vmrt::test::mounts_under(dir());
      for (auto it = mounts.rbegin(); it != mounts.rend(); ++it)
        ::umount2(vmrt::test::mount_point(*it).c_str(), MNT_DETACH);
    }
    remove_stale_shim_sockets();
    // CNI's DEL leaves the bridge it made for the first pod.
    if (!options_.pod_subnet.empty())
      run_capture({"ip", "link", "del", kPodBridge}, std::chrono::seconds(10));
  } catch (const std::exception&) {
    // What is left shows up in the next harness's leftovers.
  }
}

std::vector<std::string> Containerd::extra_env() const {
  // ctr run and ctr images import unpack with this snapshotter (--snapshotter).
  return {"CONTAINERD_SNAPSHOTTER=" + snapshotter_};
}

void Containerd::write_config() const {
  std::filesystem::create_directories(dir() / "cni/bin");
  std::filesystem::create_directories(dir() / "cni/net.d");
  std::vector<std::string> disabled = {
      // Snapshotters whose filesystems the tests never have; left enabled
      // they only fill the log with failures to load.
      "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
      "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper"};
  if (snapshotter_ != "overlayfs") disabled.push_back("io.containerd.snapshotter.v1.overlayfs");
  std::string disabled_list;
  for (const auto& d : disabled)
    disabled_list += (disabled_list.empty() ? "\"" : ", \"") + d + "\"";

  std::string cni_bin = (dir() / "cni/bin").string();
  if (!options_.pod_subnet.empty()) {
    cni_bin = "/usr/lib/cni";  // Debian's containernetworking-plugins
    // No masquerading (nothing leaves the machine) and no iptables rules
    // to clean up; host-local keeps its leases in the harness's directory.
    std::ofstream(dir() / "cni/net.d/10-vmrt-test.conflist") << fmt::format(
        R"({{"cniVersion": "1.0.0", "name": "vmrt-test", "plugins": [{{
  "type": "bridge", "bridge": "{bridge}", "isGateway": true, "ipMasq": false,
  "ipam": {{"type": "host-local", "dataDir": "{dir}/cni/ipam",
            "ranges": [[{{"subnet": "{net}.0/24", "gateway": "{net}.1"}}]],
            "routes": [{{"dst": "0.0.0.0/0"}}]}}
}}]}}
)",
        fmt::arg("bridge", kPodBridge), fmt::arg("dir", dir().string()),
        fmt::arg("net", options_.pod_subnet));
  }

  std::ofstream(dir() / "config.toml") << fmt::format(
      R"(# A private containerd for vmrt's end-to-end tests.
version = 2
root = "{dir}/root"
state = "{state}"
disabled_plugins = [{disabled}]

[grpc]
  address = "{address}"
[ttrpc]
  address = "{address}.ttrpc"
[debug]
  # debug also makes containerd start shims with -debug.
  level = "debug"

[plugins."io.containerd.internal.v1.opt"]
  # The default, /opt/containerd, is read-only inside the rig.
  path = "{dir}/opt"

[plugins."io.containerd.grpc.v1.cri"]
  # No registry is reachable: the pause image is imported by the harness.
  sandbox_image = "{pause}"
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  # The rig runs the host's root as a chroot without securityfs; profiles
  # could not be loaded there.
  disable_apparmor = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "{snapshotter}"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "{runc}"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.vmrt]
      runtime_type = "{vmrt}"
  # Without a CNI configuration in conf_dir the plugin reports the pod
  # network not ready and runs host-network pods only.
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "{cni_bin}"
    conf_dir = "{dir}/cni/net.d"
)",
      fmt::arg("dir", dir().string()), fmt::arg("state", state_dir().string()),
      fmt::arg("disabled", disabled_list), fmt::arg("address", address().string()),
      fmt::arg("pause", kPauseImage), fmt::arg("snapshotter", snapshotter_),
      fmt::arg("runc", kRuncRuntime), fmt::arg("vmrt", kVmrtRuntime), fmt::arg("cni_bin", cni_bin));
}

void Containerd::wait_until_ready() {
  auto deadline = std::chrono::steady_clock::now() + options_.start_timeout;
  std::string last;
  while (std::chrono::steady_clock::now() < deadline) {
    if (auto status = containerd_->wait_for(0ms))
      fail("containerd {} before it answered; its log ends with:\n{}", status->to_string(),
           log_tail());
    RunResult r = run_capture(ctr_argv({"version"}), 10s);
    if (r.status.success()) return;
    last = r.err;
    std::this_thread::sleep_for(100ms);
  }
  fail("containerd did not answer `ctr version` within {} s ({}); its log ends with:\n{}",
       options_.start_timeout.count(), last, log_tail());
}

std::vector<std::string> Containerd::ctr_argv(const std::vector<std::string>& args) const {
  return ctr_argv_in(ns(), args);
}

std::vector<std::string> Containerd::ctr_argv_in(const std::string& ns,
                                                 const std::vector<std::string>& args) const {
  std::vector<std::string> argv = {"ctr", "--address", address().string(), "--namespace", ns};
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

RunResult Containerd::ctr(const std::vector<std::string>& args, const std::string& input,
                          std::chrono::seconds timeout) const {
  SpawnOptions o;
  o.extra_env = extra_env();
  UniqueFd in;
  if (!input.empty()) {
    // A file rather than a pipe: all of the input is there, then end of file.
    static std::atomic<int> serial = 0;
    std::filesystem::path f = dir() / fmt::format("stdin.{}", serial++);
    std::ofstream(f, std::ios::binary) << input;
    in.reset(check_sys(::open(f.c_str(), O_RDONLY | O_CLOEXEC), "open " + f.string()));
    o.in = Stdio::to_fd(in.get());
  }
  return run_capture(ctr_argv(args), timeout, o);
}

Subprocess Containerd::spawn_ctr(const std::vector<std::string>& args, SpawnOptions options) const {
  for (auto& e : extra_env()) options.extra_env.push_back(e);
  return Subprocess::spawn(ctr_argv(args), options);
}

std::optional<TaskInfo> Containerd::task(const std::string& id) const {
  RunResult r = ctr({"task", "ls"}, "", 30s);
  if (!r.status.success()) return std::nullopt;
  // TASK PID STATUS, after a header line.
  for (const auto& line : lines_of(r.out)) {
    std::istringstream fields(line);
    std::string task, pid;
    TaskInfo info;
    if (fields >> task >> pid >> info.status && task == id &&
        pid.find_first_not_of("0123456789") == std::string::npos) {
      info.pid = std::stoi(pid);
      return info;
    }
  }
  return std::nullopt;
}

std::string Containerd::wait_task_status(const std::string& id, const std::string& status,
                                         std::chrono::seconds timeout) const {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string last;
  do {
    std::optional<TaskInfo> t = task(id);
    last = t ? t->status : "(no task)";
    if (last == status) break;
    std::this_thread::sleep_for(200ms);
  } while (std::chrono::steady_clock::now() < deadline);
  return last;
}

void Containerd::import_images(const std::string& ns) const {
  const ImageArchives& images = image_archives();
  for (const auto& [reference, archive] :
       {std::pair{kBusyboxImage, images.busybox}, std::pair{kPauseImage, images.pause}}) {
    SpawnOptions o;
    o.extra_env = extra_env();
    RunResult r = run_capture(ctr_argv_in(ns, {"images", "import", "--base-name",
                                               split_reference(reference).first, archive.string()}),
                              120s, o);
    if (!r.status.success())
      fail("importing {} into namespace {}: {}\n{}\ncontainerd's log ends with:\n{}", reference, ns,
           r.status.to_string(), r.err, log_tail());
  }
}

std::string Containerd::log() const { return read_text(log_path()); }

std::string Containerd::log_tail(size_t lines) const { return last_lines(log(), lines); }

std::string Containerd::hang_report() const {
  std::string report = "containerd's log ends with:\n" + log_tail(100);
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(shim_root(), ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    auto name = it->path().filename();
    if (name != "console.log" && name != "vmm.log") continue;
    report += fmt::format("{} ends with:\n{}", it->path().string(),
                          last_lines(read_text(it->path()), 40));
  }
  return report;
}

std::vector<std::string> Containerd::shims() const {
  // Shims are started (and re-exec themselves) with -address of the
  // containerd they serve.
  std::string ours = "-address " + address().string() + " ";
  std::vector<std::string> found;
  for (const auto& p : vmrt::test::processes_named(""))
    if (p.find("containerd-shim") != std::string::npos && p.find(ours) != std::string::npos)
      found.push_back(p);
  return found;
}

std::vector<std::string> Containerd::new_vmms() const {
  std::vector<std::string> found;
  for (const auto& p : vmrt::test::processes_named("/vmrt-vmm"))
    if (!vmms_before_.count(p)) found.push_back(p);
  return found;
}

std::vector<std::filesystem::path> Containerd::new_shim_sockets() const {
  std::vector<std::filesystem::path> found;
  for (const auto& s : directory_entries(kShimSocketDir))
    if (!sockets_before_.count(s)) found.push_back(s);
  return found;
}

std::vector<std::string> Containerd::leftovers() const {
  return vmrt::test::settled([this] {
    std::vector<std::string> left;
    for (const auto& p : shims()) left.push_back("shim: " + p);
    for (const auto& p : new_vmms()) left.push_back("vmm: " + p);
    for (const auto& m : vmrt::test::mounts_under(dir())) left.push_back("mount: " + m);
    for (const auto& c : vmrt::test::vmm_cgroups()) left.push_back("cgroup: " + c);
    for (const auto& s : new_shim_sockets()) left.push_back("shim socket: " + s.string());
    // The CRI plugin's pod network namespaces (and with them CNI's veth
    // and vmrt's tap) go when the pod is removed.
    for (const auto& ns : directory_entries("/run/netns"))
      if (!netns_before_.count(ns)) left.push_back("network namespace: " + ns.string());
    for (const auto& pod : directory_entries(shim_root()))
      left.push_back("vmrt shim state: " + pod.string());
    // A task's bundle lives until the task is deleted.
    for (const auto& ns : directory_entries(state_dir() / "io.containerd.runtime.v2.task"))
      for (const auto& bundle : directory_entries(ns))
        left.push_back("task bundle: " + bundle.string());
    return left;
  });
}

void Containerd::delete_remaining_tasks() const {
  RunResult namespaces = ctr({"namespaces", "ls", "-q"}, "", 30s);
  for (const auto& ns : lines_of(namespaces.out)) {
    auto in_ns = [&](const std::vector<std::string>& args) {
      return run_capture(ctr_argv_in(ns, args), 60s);
    };
    for (const auto& id : lines_of(in_ns({"task", "ls", "-q"}).out))
      in_ns({"task", "delete", "--force", id});
  }
}

void Containerd::kill_shims() const {
  for (const auto& shim : shims()) {
    int pid = pid_of(shim);
    // Collected first: once the shim is gone its children move to init.
    std::vector<int> below = vmrt::test::descendants(pid);
    ::kill(pid, SIGKILL);
    for (int child : below) ::kill(child, SIGKILL);
  }
  vmrt::test::settled([this] { return shims(); });
}

}  // namespace vmrt::containerd_test
