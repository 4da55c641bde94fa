#include "agent/container/capabilities.h"

#include "agent/container/child.h"
#include "common/error.h"
#include "common/log.h"

namespace vmrt::agent {

namespace {

// libcap's name for `cap` ("cap_chown"), freed.
std::string cap_name(int cap) {
  char* name = cap_to_name(static_cast<cap_value_t>(cap));
  std::string out = name ? name : std::to_string(cap);
  cap_free(name);
  return out;
}

uint64_t set_of(const oci::Strings& names, const char* which, int last_cap) {
  uint64_t bits = 0;
  for (size_t i = 0; i < names.size(); ++i) {
    cap_value_t cap;
    if (cap_from_name(names[i].c_str(), &cap) < 0)
      fail("process.capabilities.{}[{}]: unknown capability \"{}\"", which, i, names[i]);
    if (cap > last_cap) {
      spdlog::warn("ignoring {}: this kernel does not know it", names[i]);
      continue;
    }
    bits |= uint64_t(1) << cap;
  }
  return bits;
}

}  // namespace

CapabilityPlan plan_capabilities(const oci::Capabilities& caps) {
  CapabilityPlan plan;
  plan.last_cap = static_cast<int>(cap_max_bits()) - 1;
  plan.bounding = set_of(caps.bounding, "bounding", plan.last_cap);
  plan.effective = set_of(caps.effective, "effective", plan.last_cap);
  plan.permitted = set_of(caps.permitted, "permitted", plan.last_cap);
  plan.inheritable = set_of(caps.inheritable, "inheritable", plan.last_cap);
  plan.ambient = set_of(caps.ambient, "ambient", plan.last_cap);
  // The kernel refuses an effective capability that is not permitted, and
  // an ambient one that is not both permitted and inheritable: say so here
  // rather than as EPERM from the child.
  auto missing = [](uint64_t subset, uint64_t of) { return subset & ~of; };
  if (uint64_t m = missing(plan.effective, plan.permitted))
    fail("process.capabilities.effective: {} is not permitted", cap_name(__builtin_ctzll(m)));
  // An ambient capability must be permitted and inheritable, or the kernel
  // refuses to raise it; runc's default spec lists ambient ones without
  // inheritable, so (as runc) they are dropped with a warning, not an error.
  if (uint64_t m = missing(plan.ambient, plan.permitted & plan.inheritable)) {
    for (int cap = 0; cap <= plan.last_cap; ++cap)
      if (m >> cap & 1)
        spdlog::debug("not raising ambient {}: it is not both permitted and inheritable",
                      cap_name(cap));
    plan.ambient &= ~m;
  }

  cap_t state = cap_init();
  if (!state) throw_errno("cap_init");
  plan.state.reset(state, [](cap_t c) { cap_free(c); });
  for (int cap = 0; cap <= plan.last_cap; ++cap) {
    cap_value_t v = cap;
    for (auto [flag, bits] : {std::pair{CAP_EFFECTIVE, plan.effective},
                              {CAP_PERMITTED, plan.permitted},
                              {CAP_INHERITABLE, plan.inheritable}})
      if (bits >> cap & 1) check_sys(cap_set_flag(state, flag, 1, &v, CAP_SET), "cap_set_flag");
  }
  return plan;
}

void drop_bounding(const Child& child, const CapabilityPlan& plan) {
  for (int cap = 0; cap <= plan.last_cap; ++cap)
    if (!(plan.bounding >> cap & 1) && cap_drop_bound(cap) < 0) child.fail(Step::Bounding, cap);
}

void apply_capabilities(const Child& child, const CapabilityPlan& plan) {
  if (cap_set_proc(plan.state.get()) < 0) child.fail(Step::Capabilities);
  if (cap_reset_ambient() < 0 && errno != EINVAL) child.fail(Step::Ambient);
  for (int cap = 0; cap <= plan.last_cap; ++cap)
    if ((plan.ambient >> cap & 1) && cap_set_ambient(cap, CAP_SET) < 0)
      child.fail(Step::Ambient, cap);
}

}  // namespace vmrt::agent
