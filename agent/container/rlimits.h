#pragma once
// process.rlimits.

#include <sys/resource.h>

#include <vector>

#include "common/oci/spec.h"

namespace vmrt::agent {

class Child;

struct RlimitSetting {
  int resource = 0;  // RLIMIT_*
  rlimit limit{};
};

// Throws vmrt::Error naming the entry: unknown RLIMIT_* name, soft above hard.
std::vector<RlimitSetting> plan_rlimits(const std::vector<oci::Rlimit>& rlimits);

// Child, while still privileged (raising a hard limit needs CAP_SYS_RESOURCE).
void apply_rlimits(const Child& child, const std::vector<RlimitSetting>& rlimits);

}  // namespace vmrt::agent
