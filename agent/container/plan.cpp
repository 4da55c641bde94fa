#include "agent/container/plan.h"

#include <cstring>

#include "common/error.h"
#include "common/log.h"

namespace vmrt::agent {

ContainerPlan plan_container(const oci::Spec& spec, const PlanInputs& in) {
  if (!spec.process) fail("process: missing (a container needs a process to run)");
  ContainerPlan plan;
  plan.namespaces = plan_namespaces(spec.linux.namespaces);
  std::filesystem::path rootfs = in.rootfs;
  if (rootfs.empty()) {
    std::filesystem::path p(spec.root.path);
    rootfs = p.is_absolute() ? p : in.bundle / p;
  }
  plan.mounts = plan_mounts(spec, rootfs, in.bundle, in.overlay, in.overlay_dir);
  plan.uts = plan_uts(spec, plan.namespaces);
  plan.cgroup = cgroup_relative_path(spec.linux.cgroups_path, in.id);
  if (spec.linux.resources) plan.resources = plan_resources(*spec.linux.resources);
  if (spec.linux.seccomp) {
    auto seccomp = std::make_shared<SeccompPlan>(plan_seccomp(*spec.linux.seccomp));
    for (const std::string& name : seccomp->unknown)
      spdlog::warn("seccomp: ignoring unknown system call {}", name);
    plan.seccomp = std::move(seccomp);
  }
  plan.process = plan_process(*spec.process, plan.seccomp);
  if (spec.linux.personality && spec.linux.personality->domain != "LINUX")
    fail("linux.personality: only LINUX is supported");
  if (!spec.process->apparmor_profile.empty() || !spec.process->selinux_label.empty() ||
      !spec.linux.mount_label.empty())
    spdlog::debug("ignoring the AppArmor profile and SELinux labels: the guest has no LSM");
  if (!spec.hooks.prestart.empty() || !spec.hooks.create_runtime.empty() ||
      !spec.hooks.create_container.empty() || !spec.hooks.start_container.empty() ||
      !spec.hooks.poststart.empty() || !spec.hooks.poststop.empty())
    spdlog::warn("ignoring OCI hooks: they run on the host side, not in the guest");
  return plan;
}

namespace {

std::string step_text(const ContainerPlan* c, const ProcessPlan& p, Step step, int i) {
  auto idx = [&](size_t size) { return i >= 0 && static_cast<size_t>(i) < size; };
  switch (step) {
    case Step::Ready:
      return "setup";
    case Step::Undumpable:
      return "making the process undumpable";
    case Step::Fds:
      return "closing inherited descriptors";
    case Step::JoinNamespace:
      if (c && idx(c->namespaces.joins.size()))
        return fmt::format("joining the {} namespace {}", c->namespaces.joins[i].type,
                           c->namespaces.joins[i].path);
      return "joining the container's namespaces";
    case Step::RootPropagation:
      return "setting the propagation of /";
    case Step::RootBind:
      return c ? fmt::format("bind-mounting the rootfs {}", c->mounts.rootfs)
               : "mounting the rootfs";
    case Step::OverlayTmpfs:
      return "mounting the tmpfs for the overlay's upper layer";
    case Step::OverlayDirs:
      return "creating the overlay's upper and work directories";
    case Step::Overlay:
      return c ? fmt::format("mounting an overlay on the rootfs {}", c->mounts.rootfs)
               : "mounting the overlay";
    case Step::MountTarget:
    case Step::Mount:
    case Step::MountRemount:
    case Step::MountPropagation:
    case Step::MountCopyUp:
      if (c && idx(c->mounts.mounts.size())) {
        const MountStep& m = c->mounts.mounts[i];
        const char* what = step == Step::MountTarget        ? "creating the mount point of"
                           : step == Step::MountRemount     ? "remounting (flags)"
                           : step == Step::MountCopyUp      ? "copying up (tmpcopyup) what is under"
                           : step == Step::MountPropagation ? "setting the propagation of"
                                                            : "mounting";
        return fmt::format("{} {} {} on /{} (mounts[{}])", what, m.type.empty() ? "bind" : m.type,
                           m.source, m.target.path, i);
      }
      return "mounting";
    case Step::Device:
      if (c && idx(c->mounts.devices.size()))
        return fmt::format("creating the device /{}", c->mounts.devices[i].path.path);
      return "creating a device";
    case Step::DevSymlink:
      return "creating the /dev symlinks";
    case Step::PivotRoot:
      return "pivot_root into the rootfs";
    case Step::MaskedPath:
      if (c && idx(c->mounts.masked.size())) return fmt::format("masking {}", c->mounts.masked[i]);
      return "masking a path";
    case Step::ReadonlyPath:
      if (c && idx(c->mounts.readonly_paths.size()))
        return fmt::format("making {} read-only", c->mounts.readonly_paths[i]);
      return "making a path read-only";
    case Step::RootReadonly:
      return "making the root read-only";
    case Step::Hostname:
      return c ? fmt::format("setting the hostname \"{}\"", c->uts.hostname)
               : "setting the hostname";
    case Step::Domainname:
      return "setting the domainname";
    case Step::Sysctl:
      if (c && idx(c->uts.sysctls.size()))
        return fmt::format("setting sysctl {}", c->uts.sysctls[i].key);
      return "setting a sysctl";
    case Step::OomScoreAdj:
      return "setting oom_score_adj";
    case Step::Rlimit:
      return idx(p.rlimits.size()) ? fmt::format("setting rlimit {}", p.rlimits[i].resource)
                                   : "setting an rlimit";
    case Step::Terminal:
      return "allocating a terminal (/dev/ptmx in the container)";
    case Step::Stdio:
      return "installing the standard streams";
    case Step::Cwd:
      return fmt::format("changing to the working directory {}", p.cwd);
    case Step::Bounding:
      return fmt::format("dropping capability {} from the bounding set", i);
    case Step::Groups:
      return "setting the additional groups";
    case Step::Gid:
      return fmt::format("setting gid {}", p.user.gid);
    case Step::Uid:
      return fmt::format("setting uid {}", p.user.uid);
    case Step::Capabilities:
      return "setting the capabilities";
    case Step::Ambient:
      return "raising the ambient capabilities";
    case Step::NoNewPrivileges:
      return "setting no_new_privs";
    case Step::Seccomp:
      return "loading the seccomp filter";
    case Step::WaitStart:
      return "waiting for start";
    case Step::Exec:
      return fmt::format("executing {}", p.args.empty() ? "" : p.args[0]);
  }
  return "setup";
}

}  // namespace

std::string describe(const ContainerPlan* container, const ProcessPlan& process,
                     const ChildReport& r) {
  return fmt::format("{}: {}", step_text(container, process, r.step, r.index), strerror(r.err));
}

}  // namespace vmrt::agent
