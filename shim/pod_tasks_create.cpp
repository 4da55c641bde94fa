// PodTasks::create: a task's rootfs, the pod's VM for its first task, and
// the container in the guest; nothing left behind when any step fails.
#include <regex>

#include "common/container_id.h"
#include "common/ttrpc/status.h"
#include "github.com/containerd/containerd/api/events/task.pb.h"
#include "sandbox/config.h"
#include "sandbox/sandbox.h"
#include "shim/pod_location.h"
#include "shim/pod_tasks.h"
#include "shim/runtime_options.h"
#include "shim/task_records.h"

namespace vmrt::shim {

namespace events = containerd::events;
using ttrpc::Code;
using ttrpc::fail_status;

// CRI puts a pod's containers into the pod sandbox's namespaces by path:
// /proc/<sandbox task pid>/ns/<kind>, a host path of the VMM (the pid we
// report). Inside the VM the same namespaces are the pod sandbox init's.
void PodTasks::adopt_pod_namespaces(oci::Spec& spec) const {
  static const std::map<std::string, std::string> kKernelName = {
      {"pid", "pid"}, {"network", "net"}, {"mount", "mnt"},    {"ipc", "ipc"},
      {"uts", "uts"}, {"user", "user"},   {"cgroup", "cgroup"}};
  static const std::regex kProcNs(R"(/proc/(\d+)/ns/[a-z_]+)");
  for (auto& ns : spec.linux.namespaces) {
    if (ns.path.empty()) continue;
    std::smatch m;
    // Compared as text: the digits may be more than any integer holds.
    if (!std::regex_match(ns.path, m, kProcNs) || m.str(1) != std::to_string(task_pid_locked()) ||
        !pod_guest_pid_ || !kKernelName.count(ns.type))
      fail_status(Code::InvalidArgument,
                  "namespace {} at {}: a container in a VM can only join its pod's namespaces",
                  ns.type, ns.path);
    ns.path = fmt::format("/proc/{}/ns/{}", pod_guest_pid_, kKernelName.at(ns.type));
  }
}

std::shared_ptr<PodVm> PodTasks::boot(const std::string& pod, const oci::Spec& spec,
                                      sandbox::RuntimeConfig config) {
  std::shared_ptr<PodVm> vm = boot_({pod, &spec, std::move(config)});
  vm->watch_oom([this](const std::string& id) {
    events::TaskOOM e;
    e.set_container_id(id);
    events_.publish("/tasks/oom", e);
  });
  return vm;
}

task::CreateTaskResponse PodTasks::create(const task::CreateTaskRequest& r) {
  check_container_id(r.id());
  auto t = std::make_unique<TaskRecord>();
  t->id = r.id();
  t->bundle = r.bundle();
  oci::Spec spec;
  std::string pod;
  bool first = false;
  std::shared_ptr<PodVm> vm;
  {
    std::unique_lock lock(mu_);
    if (stopped_) fail_status(Code::FailedPrecondition, "the shim is shutting down");
    if (tasks_.count(r.id()) || creating_.count(r.id()))
      fail_status(Code::AlreadyExists, "task {} exists already", r.id());
    if (!r.checkpoint().empty())
      fail_status(Code::Unimplemented, "task {}: restoring a checkpoint is not supported by vmrt",
                  r.id());
    spec = oci::load_spec(t->bundle);
    pod = pod_of(r.id(), spec.annotations);
    // A pod's other tasks wait for the VM its first task boots.
    changed_.wait(lock, [&] { return !booting_ || stopped_; });
    if (stopped_) fail_status(Code::FailedPrecondition, "the shim is shutting down");
    // Asked again: the wait let other calls in.
    if (tasks_.count(r.id()) || creating_.count(r.id()))
      fail_status(Code::AlreadyExists, "task {} exists already", r.id());
    first = !vm_;
    if (first) {
      if (pod != r.id())
        fail_status(Code::FailedPrecondition, "task {}: its pod {} has no sandbox in this shim",
                    r.id(), pod);
      booting_ = true;
    } else {
      if (pod != pod_)
        fail_status(Code::InvalidArgument, "task {} belongs to pod {}, this shim serves pod {}",
                    r.id(), pod, pod_);
      adopt_pod_namespaces(spec);
      vm = vm_;
    }
    creating_.insert(r.id());
  }
  // Whatever fails from here on: the id is free again, a boot is over.
  struct Unlist {
    PodTasks& tasks;
    const std::string& id;
    bool first;
    ~Unlist() {
      std::lock_guard lock(tasks.mu_);
      tasks.creating_.erase(id);
      if (first) tasks.booting_ = false;
      tasks.changed_.notify_all();
    }
  } unlist{*this, r.id(), first};

  std::shared_ptr<ProcessRecord> p;
  bool published = false;  // vm_ is this Create's VM
  try {
    // The pod's VM settled first, its annotations allowed or refused,
    // before anything is mounted or created for it: a refused pod leaves
    // nothing.
    std::optional<sandbox::RuntimeConfig> config;
    if (first) {
      config = sandbox::sandbox_config(runtime_config_path(r.options()), spec.annotations);
    }
    std::filesystem::path rootfs = t->bundle / "rootfs";
    std::vector<MountSpec> mounts;
    for (const auto& m : r.rootfs())
      mounts.push_back({m.type(), m.source(), {m.options().begin(), m.options().end()}});
    if (!mounts.empty()) {
      t->rootfs = RootfsMounts(mounts, rootfs);
    } else {
      rootfs = spec.root.path;
      if (rootfs.is_relative()) rootfs = t->bundle / rootfs;
    }
    if (first) {
      vm = boot(pod, spec, std::move(*config));
      std::lock_guard lock(mu_);
      if (stopped_) fail_status(Code::FailedPrecondition, "the shim is shutting down");
      vm_ = vm;
      published = true;
      pod_ = pod;
    }
    p = std::make_shared<ProcessRecord>();
    p->id = r.id();
    p->stdio = {r.stdin(), r.stdout(), r.stderr(), r.terminal()};
    p->fds = open_stdio(p->stdio, {r.id(), ns_});
    uint32_t guest_pid =
        vm->create_container(r.id(), spec, rootfs, {r.terminal(), p->fds.in.valid()});
    std::lock_guard lock(mu_);
    if (r.id() == pod) pod_guest_pid_ = guest_pid;
  } catch (const sandbox::MountsLeft&) {
    std::lock_guard lock(mu_);
    mounts_left_ = true;  // the pod directory stays (serve_command)
    throw;
  } catch (...) {
    // The pod's own task failed: no VM stays behind for it.
    if (first && vm) {
      {
        std::lock_guard lock(mu_);
        // Once stop() has taken the VM, ending it is stop()'s.
        if (published && vm_ != vm) throw;
        if (vm_ == vm) vm_.reset();
      }
      if (end_vm(std::move(vm))) {
        std::lock_guard lock(mu_);
        mounts_left_ = true;
      }
    }
    throw;
  }
  t->init = p;

  events::TaskCreate e;
  e.set_container_id(r.id());
  e.set_bundle(r.bundle());
  for (const auto& m : r.rootfs()) *e.add_rootfs() = m;
  e.mutable_io()->set_stdin(r.stdin());
  e.mutable_io()->set_stdout(r.stdout());
  e.mutable_io()->set_stderr(r.stderr());
  e.mutable_io()->set_terminal(r.terminal());
  std::lock_guard lock(mu_);
  if (stopped_) fail_status(Code::Unavailable, "the shim is shutting down");
  e.set_pid(task_pid_locked());
  events_.publish("/tasks/create", e);
  tasks_.emplace(r.id(), std::move(t));
  task::CreateTaskResponse resp;
  resp.set_pid(task_pid_locked());
  return resp;
}

}  // namespace vmrt::shim
