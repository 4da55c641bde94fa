#pragma once
// Spec -> plan: everything create() will do, computed up front from the OCI
// spec without touching the system, so that a malformed spec fails with a
// message naming its field before anything exists, unit tests can check the
// translation without root, and the child only executes the plan.

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "agent/container/cgroup_resources.h"
#include "agent/container/child.h"
#include "agent/container/hostname.h"
#include "agent/container/mounts.h"
#include "agent/container/namespaces.h"
#include "agent/container/process.h"
#include "common/oci/spec.h"

namespace vmrt::agent {

struct PlanInputs {
  std::filesystem::path bundle;
  std::filesystem::path rootfs;  // empty: spec.root.path, relative to the bundle
  bool overlay = false;
  std::filesystem::path overlay_dir;  // the container's state directory
  std::string id;
};

struct ContainerPlan {
  NamespacePlan namespaces;
  MountPlan mounts;
  UtsPlan uts;
  std::string cgroup;  // relative to the cgroup root
  std::vector<CgroupWrite> resources;
  std::shared_ptr<const SeccompPlan> seccomp;
  ProcessPlan process;
};

// Throws vmrt::Error "<json path>: why" for anything the runtime cannot do.
ContainerPlan plan_container(const oci::Spec& spec, const PlanInputs& inputs);

// The message for a failure the child reported, naming what it was doing
// with the plan's names, e.g. "mounting proc on /proc: Permission denied".
// `container` is null for an exec'd process.
std::string describe(const ContainerPlan* container, const ProcessPlan& process,
                     const ChildReport& report);

}  // namespace vmrt::agent
