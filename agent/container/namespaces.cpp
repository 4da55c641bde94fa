#include "agent/container/namespaces.h"

#include <fcntl.h>
#include <sched.h>

#include <map>

#include "agent/container/child.h"
#include "common/error.h"
#include "common/log.h"

namespace vmrt::agent {

namespace {

const std::map<std::string, int> kTypes = {{"pid", CLONE_NEWPID},   {"network", CLONE_NEWNET},
                                           {"mount", CLONE_NEWNS},  {"ipc", CLONE_NEWIPC},
                                           {"uts", CLONE_NEWUTS},   {"cgroup", CLONE_NEWCGROUP},
                                           {"user", CLONE_NEWUSER}, {"time", CLONE_NEWTIME}};

}  // namespace

bool NamespacePlan::is_private(int nstype) const {
  if (clone_flags & static_cast<uint64_t>(nstype)) return true;
  if (nstype == CLONE_NEWPID) return !pid_path.empty();
  for (const Join& j : joins)
    if (j.nstype == nstype) return true;
  return false;
}

NamespacePlan plan_namespaces(const std::vector<oci::Namespace>& namespaces) {
  NamespacePlan plan;
  for (size_t i = 0; i < namespaces.size(); ++i) {
    const oci::Namespace& ns = namespaces[i];
    auto where = [&] { return fmt::format("linux.namespaces[{}]", i); };
    auto it = kTypes.find(ns.type);
    if (it == kTypes.end()) fail("{}.type: unknown namespace type \"{}\"", where(), ns.type);
    int flag = it->second;
    // A user namespace needs uid/gid maps written between clone and setup,
    // a time namespace can only be unshared for future children: neither is
    // needed inside a VM that is already the isolation boundary.
    if (flag == CLONE_NEWUSER) fail("{}: user namespaces are not supported", where());
    if (flag == CLONE_NEWTIME) fail("{}: time namespaces are not supported", where());
    if (ns.path.empty()) {
      plan.clone_flags |= static_cast<uint64_t>(flag);
    } else if (flag == CLONE_NEWNS) {
      fail("{}.path: the container needs a mount namespace of its own, not {}", where(), ns.path);
    } else if (flag == CLONE_NEWPID) {
      plan.pid_path = ns.path;
    } else {
      plan.joins.push_back({ns.type, ns.path, flag});
    }
  }
  if (!(plan.clone_flags & CLONE_NEWNS))
    fail("linux.namespaces: a mount namespace is required (the rootfs is set up in it)");
  return plan;
}

std::vector<UniqueFd> open_namespaces(const NamespacePlan& plan) {
  std::vector<UniqueFd> fds;
  for (const NamespacePlan::Join& j : plan.joins) {
    UniqueFd fd(::open(j.path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) throw_errno(fmt::format("cannot open the {} namespace {}", j.type, j.path));
    fds.push_back(std::move(fd));
  }
  return fds;
}

void join_namespaces(const Child& child, const NamespacePlan& plan,
                     const std::vector<UniqueFd>& fds) {
  for (size_t i = 0; i < fds.size(); ++i)
    if (::setns(fds[i].get(), plan.joins[i].nstype) < 0)
      child.fail(Step::JoinNamespace, static_cast<int>(i));
}

PidNamespaceForChildren::PidNamespaceForChildren(int nsfd) {
  if (nsfd < 0) return;
  own_.reset(check_sys(::open("/proc/thread-self/ns/pid", O_RDONLY | O_CLOEXEC),
                       "open /proc/thread-self/ns/pid"));
  check_sys(::setns(nsfd, CLONE_NEWPID), "setns into the container's pid namespace");
}

PidNamespaceForChildren::~PidNamespaceForChildren() {
  // Back to the thread's own (active) pid namespace, which is always allowed.
  if (own_ && ::setns(own_.get(), CLONE_NEWPID) < 0)
    spdlog::error("cannot return to the agent's pid namespace: {}", strerror(errno));
}

}  // namespace vmrt::agent
