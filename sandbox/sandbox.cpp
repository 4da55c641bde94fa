#include "sandbox/sandbox.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/mount.h>
#include <sys/random.h>

#include <thread>

#include "common/error.h"
#include "common/forward/forward_protocol.h"
#include "common/hybrid_vsock.h"
#include "common/vmm_exit_status.h"
#include "sandbox/cgroup_path.h"
#include "sandbox/file_tail.h"
#include "sandbox/vm_template.h"

namespace vmrt::sandbox {

using namespace std::chrono_literals;

namespace {

// The virtio-fs tag vmrt-vmm gives the share unless told otherwise.
constexpr const char* kShareTag = "vmrt";
// The agent's api_version that configures CreateSandbox's network; an
// older one would ignore the fields and leave the pod without a network.
constexpr uint32_t kAgentApiNetwork = 2;
// How long a VMM gets to end after SIGTERM before SIGKILL.
constexpr auto kStopGrace = 5s;

// The spec's network namespace entry, or null: the host's.
const oci::Namespace* network_entry(const oci::Spec& spec) {
  for (const auto& ns : spec.linux.namespaces)
    if (ns.type == "network") return &ns;
  return nullptr;
}

// What makes a VM restored from a template its own (agent/init/fresh_start.h):
// the time, fresh entropy and, for its NIC, the pod's MAC in place of the
// template's. A booted VM takes the first two as well.
void add_fresh_start(v1::CreateSandboxRequest& req, bool from_template) {
  req.set_realtime_ns(std::chrono::duration_cast<std::chrono::nanoseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count());
  std::string bytes(64, '\0');
  if (::getrandom(bytes.data(), bytes.size(), 0) != static_cast<ssize_t>(bytes.size()))
    throw_errno("getrandom for the guest's entropy");
  req.set_entropy(bytes);
  if (from_template)
    for (auto& itf : *req.mutable_interfaces()) itf.set_current_mac(kTemplateMac);
}

}  // namespace

void enter_private_mount_namespace() {
  check_sys(::unshare(CLONE_NEWNS), "unshare(CLONE_NEWNS) for the sandbox's mounts");
  // Slave: host mounts made later (a rootfs containerd mounts for the next
  // container) still appear here; ours never reach the host.
  check_sys(::mount(nullptr, "/", nullptr, MS_REC | MS_SLAVE, nullptr),
            "make the sandbox's mount namespace a slave of the host's");
}

std::filesystem::path network_namespace_of(const oci::Spec& spec) {
  const oci::Namespace* ns = network_entry(spec);
  if (!ns) return {};
  return ns->path;
}

NetworkRequest network_request_of(const oci::Spec& spec) {
  const oci::Namespace* ns = network_entry(spec);
  if (!ns) return NetworkRequest::Host;
  return ns->path.empty() ? NetworkRequest::Own : NetworkRequest::Join;
}

Sandbox::Sandbox(SandboxOptions options) : options_(std::move(options)), paths_(options_.dir) {}

std::unique_ptr<Sandbox> Sandbox::start(SandboxOptions options) {
  std::unique_ptr<Sandbox> sb(new Sandbox(std::move(options)));
  // A cgroupsPath that cannot be had is refused before anything is made.
  sb->cgroup_placement();
  try {
    if (!sb->options_.network_namespace.empty()) {
      sb->attachment_ = network::PodAttachment::attach(sb->options_.network_namespace);
      if (sb->attachment_) sb->options_.network = sb->attachment_->guest_network();
    }
    sb->boot_or_restore();
    v1::CreateSandboxRequest req;
    req.set_hostname(sb->options_.hostname);
    req.mutable_shared_fs()->set_mount_tag(kShareTag);
    if (!sb->options_.network.empty() && sb->agent_api_version_ < kAgentApiNetwork)
      fail("sandbox {}: the guest agent (api_version {}) cannot set up the pod network", sb->id(),
           sb->agent_api_version_);
    add_pod_network(sb->options_.network, req);
    add_fresh_start(req, sb->times_.from_template);
    // The agent refuses the debug console unless told here, once.
    req.set_debug_console(sb->options_.config.debug_console);
    auto r = sb->agent_->create_sandbox(req);
    sb->guest_share_ = r.shared_fs_path();
    // Booted or restored at the base size; the pod's demand on top.
    sb->size_ = {sb->options_.config.vcpus, sb->options_.config.memory_mib};
    {
      std::lock_guard lock(sb->size_mu_);
      sb->fit();
    }
    sb->times_.sandbox_ready = sb->since_spawn();
    if (sb->attachment_) sb->start_port_relay();
  } catch (const std::exception& e) {
    try {
      sb->stop();
    } catch (const MountsLeft& left) {
      throw MountsLeft(fmt::format("{}; {}", e.what(), left.what()));
    }
    throw;
  }
  return sb;
}

void Sandbox::boot_or_restore() {
  std::optional<VmTemplate> tmpl;
  if (options_.config.template_vm) {
    try {
      tmpl = VmTemplate::find_or_make(options_.config.template_dir, options_.config,
                                      attachment_ != nullptr);
    } catch (const Error& e) {
      spdlog::warn("sandbox {}: no VM template, booting: {}", id(), e.what());
    }
  }
  if (tmpl) {
    try {
      launch(tmpl->dir());
      wait_for_agent();
      times_.from_template = true;
      tmpl->restores().succeeded();
    } catch (const Error& e) {
      // Only a snapshot the VMM refused is the template's fault for sure.
      auto status = vmm_exited();
      bool unusable = status && status->exited && status->code == vmm_exit::kSnapshotUnusable;
      bool discarded = tmpl->restores().failed(unusable);
      spdlog::warn("sandbox {}: restoring VM template {} failed, {} it and booting: {}", id(),
                   tmpl->dir().string(), discarded ? "discarding" : "keeping", e.what());
      end_launch();
    }
  }
  if (!agent_) {
    launch({});
    wait_for_agent();
  }
  // The VMM holds the tap now; it lives exactly as long as the VMM.
  if (attachment_) attachment_->release_tap();
}

void Sandbox::end_launch() noexcept {
  std::lock_guard lock(vmm_mu_);
  vmm_.reset();  // SIGKILL and reap
  vmm_status_.reset();
  cgroup_.reset();
  std::error_code ignored;
  std::filesystem::remove(paths_.vm_socket(), ignored);
  if (share_root_) unmount_noting(*share_root_);
  share_root_.reset();
}

std::optional<CgroupPlacement> Sandbox::cgroup_placement() const {
  const RuntimeConfig& config = options_.config;
  if (!config.jail) return std::nullopt;
  if (config.pod_cgroup && !options_.pod_cgroup.empty())
    return pod_placement(cgroup_of_cgroups_path(options_.pod_cgroup));
  if (!config.cgroup_parent.empty()) return shared_placement(config.cgroup_parent, id());
  return std::nullopt;
}

void Sandbox::launch(const std::filesystem::path& restore) {
  const RuntimeConfig& config = options_.config;
  std::filesystem::create_directories(paths_.shared_dir());
  std::filesystem::create_directories(paths_.vm_dir());
  std::vector<std::string> argv = vmm_argv(config, paths_, restore);
  // The share as a mount of its own: nosuid,nodev for what the guest
  // creates at its top, and shared, so that the container mounts made in it
  // after the VMM started reach a jailed file server's copy.
  share_root_.emplace(paths_.shared_dir(), paths_.shared_dir());
  check_sys(::mount(nullptr, paths_.shared_dir().c_str(), nullptr, MS_SHARED, nullptr),
            "make " + paths_.shared_dir().string() + " a shared mount");
  SpawnOptions o;
  if (config.jail) {
    // The VMM's own pid namespace; it makes its mount and IPC ones itself.
    o.namespaces = CLONE_NEWPID;
    if (auto where = cgroup_placement()) {
      cgroup_.emplace(VmmCgroup::create(*where, limits_for(config.vcpus, config.memory_mib)));
      // cgroup v2 starts the VMM there; v1 has it join before exec.
      o.cgroup_fd = cgroup_->fd();
      o.join_cgroup_procs = cgroup_->procs_fds();
      record_cgroup(paths_.dir, cgroup_->removal_order());
    }
  }
  if (attachment_) {
    // The VMM takes the tap at the same number; ours is closed right after,
    // so the tap lives exactly as long as the VMM.
    int tap = attachment_->tap_fd();
    argv.insert(argv.end(),
                {"--net-tap-fd", std::to_string(tap), "--net-mac", attachment_->guest_mac()});
    o.pass_fds.push_back(tap);
  }
  UniqueFd log(
      check_sys(::open(paths_.vmm_log().c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600),
                "create " + paths_.vmm_log().string()));
  o.out = Stdio::to_fd(log.get());
  o.err = Stdio::to_fd(log.get());
  // Its own process group: a terminal's ^C reaches the container through
  // the runtime, not the VMM directly.
  o.new_process_group = true;
  o.parent_death_signal = SIGKILL;
  spawned_ = std::chrono::steady_clock::now();
  vmm_.emplace(Subprocess::spawn(argv, o));
  spdlog::debug("sandbox {}: vmrt-vmm pid {}: {}", id(), vmm_->pid(), fmt::join(argv, " "));
}

std::optional<std::string> Sandbox::vm_gone() {
  auto vmm = vmm_exited();
  if (!vmm) return std::nullopt;
  return "vmrt-vmm " + vmm->to_string() + last_words();
}

std::string Sandbox::last_words() const {
  std::string out;
  std::string vmm = file_tail(paths_.vmm_log(), 10);
  if (!vmm.empty()) out += "\nvmrt-vmm log (last lines):\n" + vmm;
  std::string console = file_tail(paths_.console_log(), 20);
  if (!console.empty()) out += "\nguest console (last lines):\n" + console;
  return out;
}

void Sandbox::wait_for_agent() {
  auto deadline = std::chrono::steady_clock::now() + options_.config.boot_timeout;
  std::string last = "the VM socket did not appear";
  for (;;) {
    if (auto status = vmm_exited())
      fail("sandbox {}: vmrt-vmm {} before the guest agent answered{}", id(), status->to_string(),
           last_words());
    if (std::chrono::steady_clock::now() >= deadline) break;
    if (std::filesystem::exists(paths_.vm_socket())) {
      if (times_.vmm_ready.count() == 0) times_.vmm_ready = since_spawn();
      try {
        AgentClient client = AgentClient::connect(paths_.vm_socket(), 2s);
        auto h = client.health(v1::HealthRequest{}, {5s});
        if (h.status() == v1::HealthResponse::SERVING) {
          agent_.emplace(std::move(client));
          agent_api_version_ = h.api_version();
          times_.agent_ready = since_spawn();
          return;
        }
        last = "the agent is not serving yet";
      } catch (const Error& e) {
        last = e.what();
      }
    }
    // Short: the agent's readiness is the critical path of a container start.
    std::this_thread::sleep_for(10ms);
  }
  fail("sandbox {}: the guest agent did not answer within {} s (last attempt: {}){}", id(),
       options_.config.boot_timeout.count(), last, last_words());
}

namespace {

// A bind mount whose source the guest can only see through the share: what
// the spec binds from the host. Other mounts (proc, tmpfs...) are made by
// the guest kernel.
bool binds_host_path(const oci::Mount& m) {
  bool bind = m.type == "bind";
  for (const auto& o : m.options) bind = bind || o == "bind" || o == "rbind";
  return bind && !m.source.empty() && m.source.front() == '/';
}

// The share's side of a spec bind: recursive for rbind only (a plain bind
// is not, as with runc), read-only when the options end up "ro" (the last
// of ro/rw wins, as in mount(8)).
ShareMountOptions share_options(const oci::Mount& m) {
  ShareMountOptions o{.recursive = false, .readonly = false};
  for (const auto& opt : m.options) {
    if (opt == "rbind") o.recursive = true;
    if (opt == "ro" || opt == "rw") o.readonly = opt == "ro";
  }
  return o;
}

}  // namespace

uint32_t Sandbox::create_container(const std::string& id, const oci::Spec& spec,
                                   const std::filesystem::path& rootfs, ContainerStdio stdio) {
  if (mounts_.count(id)) fail("container {} exists already in sandbox {}", id, this->id());
  if (!std::filesystem::is_directory(rootfs)) fail("rootfs {}: no such directory", rootfs.string());
  std::filesystem::path relative = std::filesystem::path(id) / "rootfs";
  auto [it, inserted] = mounts_.emplace(id, ContainerMounts{});
  try {
    it->second.rootfs.emplace(rootfs, paths_.shared_dir() / relative,
                              ShareMountOptions{.recursive = true, .readonly = spec.root.readonly});
    oci::Spec guest_spec = spec;
    for (size_t i = 0; i < guest_spec.mounts.size(); ++i) {
      oci::Mount& m = guest_spec.mounts[i];
      if (!binds_host_path(m) || !std::filesystem::exists(m.source)) continue;
      // One flat directory for all containers' binds: its name cannot clash
      // with a container id (ids never start with a dot).
      std::filesystem::path name = std::filesystem::path(".binds") / fmt::format("{}-{}", id, i);
      it->second.binds.emplace_back(m.source, paths_.shared_dir() / name, share_options(m));
      m.source = (guest_share_ / name).string();
    }
    // A network namespace of the container's own whose interface the VM
    // took over (a Docker container's, wired by its prestart hook) is the
    // one the guest's NIC is in: the agent's, which a path names there.
    if (attachment_)
      for (oci::Namespace& ns : guest_spec.linux.namespaces)
        if (ns.type == "network" && ns.path.empty()) ns.path = options_.network_namespace;
    v1::CreateContainerRequest req;
    req.set_container_id(id);
    req.set_oci_spec_json(oci::to_json(guest_spec).dump());
    req.set_rootfs(relative.string());
    // The share's rootfs is read-only then: the agent's mount points go to
    // an overlay in the guest.
    req.set_overlay_rootfs(spec.root.readonly);
    req.mutable_stdio()->set_terminal(stdio.terminal);
    req.mutable_stdio()->set_open_stdin(stdio.open_stdin);
    {
      // Its limits in the VM before the container can use them.
      std::lock_guard lock(size_mu_);
      demands_[id] = demand_of(spec);
      fit();
    }
    auto r = agent_->create_container(req);
    return r.pid();
  } catch (...) {
    mounts_.erase(it);
    forget_demand(id);
    throw;
  }
}

void Sandbox::remove_container(const std::string& id, bool force) {
  v1::RemoveContainerRequest req;
  req.set_container_id(id);
  req.set_force(force);
  agent_->remove_container(req);
  forget_demand(id);
  auto it = mounts_.find(id);
  if (it == mounts_.end()) return;
  size_t failed = mounts_left_.size();
  unmount(it->second);
  mounts_.erase(it);
  if (mounts_left_.size() > failed)
    fail("container {}: {}", id,
         fmt::join(mounts_left_.begin() + static_cast<std::ptrdiff_t>(failed), mounts_left_.end(),
                   "; "));
}

void Sandbox::unmount(ContainerMounts& m) {
  for (auto& bind : m.binds) unmount_noting(bind);
  if (m.rootfs) unmount_noting(*m.rootfs);
}

void Sandbox::unmount_noting(ShareMount& m) {
  try {
    m.unmount();
  } catch (const Error& e) {
    mounts_left_.push_back(e.what());
  }
}

std::optional<ExitStatus> Sandbox::vmm_exited() {
  // Asked from several threads at once (each process watch's): one reaps.
  std::lock_guard lock(vmm_mu_);
  if (!vmm_status_ && vmm_) vmm_status_ = vmm_->wait_for(0ms);
  return vmm_status_;
}

void Sandbox::stop() {
  if (!stopped_) {
    stop_all();
    stopped_ = true;
  }
  if (!mounts_left_.empty())
    throw MountsLeft(fmt::format(
        "sandbox {}: {} (its directory {} must be kept: removing it would reach into the mount)",
        id(), fmt::join(mounts_left_, "; "), paths_.dir.string()));
}

void Sandbox::start_port_relay() {
  port_relay_ = std::make_unique<network::PortRelay>(
      options_.network_namespace, [socket = paths_.vm_socket()] {
        return hybrid_vsock::connect_vsock(socket, forward::kForwarderVsockPort, 5s);
      });
}

void Sandbox::stop_all() noexcept {
  // No new forwarded connection, and the running ones end, before the VM does.
  port_relay_.reset();
  try {
    if (agent_ && !vmm_exited()) {
      // Containers get their SIGKILL from the agent, which also unmounts the
      // share cleanly; a hung guest only costs the short deadline.
      try {
        agent_->destroy_sandbox(v1::DestroySandboxRequest{}, {3s});
      } catch (const AgentError& e) {
        spdlog::debug("sandbox {}: {}", id(), e.what());
      }
    }
    // The agent client stays until the sandbox goes: calls still running on
    // other threads fail as the VM ends, rather than use a freed client.
    std::lock_guard lock(vmm_mu_);
    if (vmm_ && !vmm_status_ && !(vmm_status_ = vmm_->wait_for(0ms))) {
      vmm_->kill(SIGTERM);
      vmm_status_ =
          vmm_->wait_for(std::chrono::duration_cast<std::chrono::milliseconds>(kStopGrace));
      if (!vmm_status_) {
        spdlog::warn("sandbox {}: vmrt-vmm ignored SIGTERM for {} s; killing it", id(),
                     kStopGrace.count());
        vmm_->kill(SIGKILL);
        vmm_status_ = vmm_->wait();
      }
    }
  } catch (const std::exception& e) {
    spdlog::error("sandbox {}: stop: {}", id(), e.what());
  }
  joined_.reset();
  if (!vmm_ || vmm_status_) {
    attachment_.reset();
    cgroup_.reset();
    // A jailed VMM has no capability left to remove its socket from our
    // directory, which it does not own.
    std::error_code ignored;
    if (vmm_) std::filesystem::remove(paths_.vm_socket(), ignored);
  }
  // Every mount is tried, whatever happened to the others; one that stays
  // keeps the directory around it (the caller's to decide, told here).
  for (auto& [name, m] : mounts_) unmount(m);
  mounts_.clear();
  if (share_root_) unmount_noting(*share_root_);
  share_root_.reset();
}

void Sandbox::join_cgroup() {
  if (!cgroup_ || joined_) return;
  try {
    joined_.emplace(cgroup_->vmm_dirs());
  } catch (const Error& e) {
    // Only what clients read as the container's use depends on it.
    spdlog::warn("sandbox {}: {}; stats read through the pid miss the VM", id(), e.what());
  }
}

void Sandbox::join_shim_cgroup() {
  if (!cgroup_ || joined_ || cgroup_->shim_dirs().empty()) return;
  try {
    joined_.emplace(cgroup_->shim_dirs());
  } catch (const Error& e) {
    spdlog::warn("sandbox {}: {}; the pod's cgroup does not account for the runtime", id(),
                 e.what());
  }
}

void Sandbox::set_cgroup_limits(const VmmLimits& limits) {
  if (cgroup_) cgroup_->set_limits(limits);
}

Sandbox::~Sandbox() {
  if (stopped_) return;
  try {
    stop();
  } catch (const Error& e) {
    spdlog::error("{}", e.what());
  }
}

std::chrono::milliseconds Sandbox::since_spawn() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                               spawned_);
}

}  // namespace vmrt::sandbox
