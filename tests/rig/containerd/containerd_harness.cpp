// The harness's containerd: starting, restarting and stopping it, ctr
// commands and tasks, its log.
#include "tests/rig/containerd/containerd_harness.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <sys/mount.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <sstream>
#include <thread>

#include "common/error.h"
#include "common/fd.h"
#include "tests/rig/containerd/containerd_harness_detail.h"
#include "tests/rig/support/host_state.h"

namespace vmrt::containerd_test {

using namespace std::chrono_literals;
using namespace detail;
using vmrt::test::read_text;

namespace {

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
    if (has_pod_network()) run_capture({"ip", "link", "del", kPodBridge}, std::chrono::seconds(10));
  } catch (const std::exception&) {
    // What is left shows up in the next harness's leftovers.
  }
}

std::vector<std::string> Containerd::extra_env() const {
  // ctr run and ctr images import unpack with this snapshotter (--snapshotter).
  return {"CONTAINERD_SNAPSHOTTER=" + snapshotter_};
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

}  // namespace vmrt::containerd_test
