#include "agent/container/hostname.h"

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>

#include "agent/container/child.h"
#include "common/error.h"

namespace vmrt::agent {

namespace {

// The namespace that isolates a sysctl, as runc allows them; 0: none does.
int sysctl_namespace(const std::string& key) {
  static const char* const ipc[] = {"kernel.msgmax", "kernel.msgmnb",         "kernel.msgmni",
                                    "kernel.sem",    "kernel.shmall",         "kernel.shmmax",
                                    "kernel.shmmni", "kernel.shm_rmid_forced"};
  if (std::find(std::begin(ipc), std::end(ipc), key) != std::end(ipc)) return CLONE_NEWIPC;
  if (key.rfind("fs.mqueue.", 0) == 0) return CLONE_NEWIPC;
  if (key.rfind("net.", 0) == 0) return CLONE_NEWNET;
  if (key == "kernel.hostname" || key == "kernel.domainname") return CLONE_NEWUTS;
  return 0;
}

}  // namespace

UtsPlan plan_uts(const oci::Spec& spec, const NamespacePlan& ns) {
  UtsPlan plan;
  plan.hostname = spec.hostname;
  plan.domainname = spec.domainname;
  if ((!plan.hostname.empty() || !plan.domainname.empty()) && !ns.is_private(CLONE_NEWUTS))
    fail("{}: setting it needs a UTS namespace of the container's own",
         plan.hostname.empty() ? "domainname" : "hostname");
  for (const auto& [key, value] : spec.linux.sysctl) {
    std::string where = fmt::format("linux.sysctl[\"{}\"]", key);
    if (key.empty() || key.find("..") != std::string::npos || key.find('/') != std::string::npos)
      fail("{}: not a sysctl name", where);
    int nstype = sysctl_namespace(key);
    if (nstype == 0) fail("{}: no namespace isolates this sysctl", where);
    if (!ns.is_private(nstype))
      fail("{}: needs a {} namespace of the container's own", where,
           nstype == CLONE_NEWNET   ? "network"
           : nstype == CLONE_NEWIPC ? "IPC"
                                    : "UTS");
    std::string path = "/proc/sys/" + key;
    std::replace(path.begin() + 10, path.end(), '.', '/');
    plan.sysctls.push_back({key, path, value});
  }
  return plan;
}

void apply_uts(const Child& child, const UtsPlan& plan) {
  if (!plan.hostname.empty() && ::sethostname(plan.hostname.data(), plan.hostname.size()) < 0)
    child.fail(Step::Hostname);
  if (!plan.domainname.empty() &&
      ::setdomainname(plan.domainname.data(), plan.domainname.size()) < 0)
    child.fail(Step::Domainname);
  for (size_t i = 0; i < plan.sysctls.size(); ++i) {
    const Sysctl& s = plan.sysctls[i];
    int fd = ::open(s.path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0 || ::write(fd, s.value.data(), s.value.size()) < 0)
      child.fail(Step::Sysctl, static_cast<int>(i));
    ::close(fd);
  }
}

}  // namespace vmrt::agent
