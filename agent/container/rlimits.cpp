#include "agent/container/rlimits.h"

#include <map>

#include "agent/container/child.h"
#include "common/error.h"

namespace vmrt::agent {

namespace {

const std::map<std::string, int> kResources = {{"RLIMIT_AS", RLIMIT_AS},
                                               {"RLIMIT_CORE", RLIMIT_CORE},
                                               {"RLIMIT_CPU", RLIMIT_CPU},
                                               {"RLIMIT_DATA", RLIMIT_DATA},
                                               {"RLIMIT_FSIZE", RLIMIT_FSIZE},
                                               {"RLIMIT_LOCKS", RLIMIT_LOCKS},
                                               {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},
                                               {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
                                               {"RLIMIT_NICE", RLIMIT_NICE},
                                               {"RLIMIT_NOFILE", RLIMIT_NOFILE},
                                               {"RLIMIT_NPROC", RLIMIT_NPROC},
                                               {"RLIMIT_RSS", RLIMIT_RSS},
                                               {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},
                                               {"RLIMIT_RTTIME", RLIMIT_RTTIME},
                                               {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
                                               {"RLIMIT_STACK", RLIMIT_STACK}};

}  // namespace

std::vector<RlimitSetting> plan_rlimits(const std::vector<oci::Rlimit>& rlimits) {
  std::vector<RlimitSetting> out;
  for (size_t i = 0; i < rlimits.size(); ++i) {
    const oci::Rlimit& r = rlimits[i];
    auto it = kResources.find(r.type);
    if (it == kResources.end())
      fail("process.rlimits[{}].type: unknown resource \"{}\"", i, r.type);
    if (r.soft > r.hard)
      fail("process.rlimits[{}]: soft limit {} is above the hard limit {}", i, r.soft, r.hard);
    out.push_back({it->second, {r.soft, r.hard}});
  }
  return out;
}

void apply_rlimits(const Child& child, const std::vector<RlimitSetting>& rlimits) {
  for (size_t i = 0; i < rlimits.size(); ++i)
    if (::setrlimit(static_cast<__rlimit_resource>(rlimits[i].resource), &rlimits[i].limit) < 0)
      child.fail(Step::Rlimit, static_cast<int>(i));
}

}  // namespace vmrt::agent
