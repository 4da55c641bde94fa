// The sandbox's VM size following its pod (sandbox/vm_size.h): the pod's
// demand at creation, then its containers' limits as they come, change and
// go.
#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "sandbox/sandbox.h"

namespace vmrt::sandbox {

Demand demand_of(const oci::Spec& spec) {
  return spec.linux.resources ? demand_of(oci::to_json(spec)["linux"]["resources"]) : Demand{};
}

VmLevers Sandbox::levers() {
  std::function<void(const VmmLimits&)> set_limits;
  if (cgroup_) set_limits = [this](const VmmLimits& limits) { cgroup_->set_limits(limits); };
  return vm_levers(*agent_, agent_api_version_, paths_.control_socket(), std::move(set_limits));
}

void Sandbox::fit() {
  Demand demand;
  for (const auto& [id, d] : demands_) demand += d;
  demand = max_of(demand, options_.demand);
  VmSize target = size_for(options_.config, demand);
  if (target == size_) return;
  Resized r = resize_vm(levers(), options_.config.memory_mib, target, options_.config.boot_timeout);
  spdlog::info("sandbox {}: VM resized from {} vCPUs, {} MiB to {} vCPUs, {} MiB", id(),
               size_.vcpus, size_.memory_mib, r.size.vcpus, r.size.memory_mib);
  if (!r.shortfall.empty()) spdlog::warn("sandbox {}: VM resize short: {}", id(), r.shortfall);
  size_ = r.size;
}

void Sandbox::forget_demand(const std::string& id) noexcept {
  std::lock_guard lock(size_mu_);
  if (demands_.erase(id) == 0) return;
  try {
    fit();
  } catch (const std::exception& e) {
    spdlog::warn("sandbox {}: VM not shrunk after container {}: {}", this->id(), id, e.what());
  }
}

VmSize Sandbox::vm_size() {
  std::lock_guard lock(size_mu_);
  return size_;
}

void Sandbox::update_container(const std::string& id, const std::string& resources_json) {
  nlohmann::json resources;
  try {
    resources = nlohmann::json::parse(resources_json);
  } catch (const nlohmann::json::exception& e) {
    fail("container {}: resources are not JSON: {}", id, e.what());
  }
  Demand before;
  {
    std::lock_guard lock(size_mu_);
    before = demands_[id];
  }
  auto resize = [&](const Demand& demand) {
    std::lock_guard lock(size_mu_);
    demands_[id] = demand;
    fit();
  };
  update_limits(before, resources, resize,
                [&] { ContainerCalls(*agent_).update(id, resources_json); });
}

}  // namespace vmrt::sandbox
