#pragma once
// process.capabilities: the five sets, as libcap values built by the parent
// and applied by the child.

#include <sys/capability.h>

#include <cstdint>
#include <memory>
#include <string>

#include "common/oci/spec.h"

namespace vmrt::agent {

class Child;

struct CapabilityPlan {
  // Bit i set: capability i is in the set. Capabilities the running kernel
  // does not know are dropped from every set (runc does the same).
  uint64_t bounding = 0, effective = 0, permitted = 0, inheritable = 0, ambient = 0;
  int last_cap = 0;  // the highest capability the kernel knows
  // effective/permitted/inheritable as libcap state, for cap_set_proc.
  std::shared_ptr<struct _cap_struct> state;
};

// Throws vmrt::Error naming the entry, e.g.
//   process.capabilities.bounding[2]: unknown capability "CAP_FOO"
CapabilityPlan plan_capabilities(const oci::Capabilities& caps);

// Child, while still privileged: drops from the bounding set what is not in it.
void drop_bounding(const Child& child, const CapabilityPlan& plan);
// Child, after changing user (with PR_SET_KEEPCAPS): sets effective,
// permitted, inheritable, then raises the ambient ones.
void apply_capabilities(const Child& child, const CapabilityPlan& plan);

}  // namespace vmrt::agent
