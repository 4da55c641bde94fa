#include "sandbox/vm_resize.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "common/error.h"
#include "sandbox/container_calls.h"
#include "sandbox/vmm_control.h"

namespace vmrt::sandbox {
namespace {

using Clock = std::chrono::steady_clock;

// Waits until the guest has plugged `want` (growing) or no more than `want`
// (shrinking), or the deadline passes; returns the last status.
MemoryStatus wait_for_plugged(const VmLevers& levers, uint64_t want, bool growing,
                              Clock::time_point deadline) {
  for (;;) {
    MemoryStatus s = levers.memory(std::nullopt);
    bool reached = growing ? s.plugged_mib >= want : s.plugged_mib <= want;
    if (reached || Clock::now() >= deadline) return s;
    levers.wait();
  }
}

}  // namespace

Resized resize_vm(const VmLevers& levers, uint64_t base_mib, const VmSize& target,
                  std::chrono::milliseconds timeout) {
  Clock::time_point deadline = Clock::now() + timeout;
  Resized r;
  MemoryStatus now = levers.memory(std::nullopt);
  uint64_t want = target.memory_mib > base_mib ? target.memory_mib - base_mib : 0;
  if (want > now.region_mib)
    fail("a VM of {} MiB needs {} MiB of hotplug memory; its VMM has {}", target.memory_mib, want,
         now.region_mib);
  bool growing = want > now.plugged_mib;
  // Before the guest may touch more memory, the VMM may hold it; while it
  // gives memory back, the limit stays above what it still has.
  if (levers.set_limits)
    levers.set_limits(limits_for(target.vcpus, base_mib + std::max(want, now.plugged_mib)));
  uint32_t online = levers.online_cpus(target.vcpus);
  if (want != now.requested_mib || want != now.plugged_mib) {
    levers.memory(want);
    now = wait_for_plugged(levers, want, growing, deadline);
  }
  r.size = {.vcpus = online, .memory_mib = base_mib + now.plugged_mib};
  // Shrinking: the guest gave back what it could; the limit follows it.
  if (levers.set_limits) levers.set_limits(limits_for(online, r.size.memory_mib));
  if (online != target.vcpus)
    r.shortfall = fmt::format("{} vCPUs online of {} asked for", online, target.vcpus);
  if (now.plugged_mib != want) {
    if (!r.shortfall.empty()) r.shortfall += "; ";
    r.shortfall +=
        growing ? fmt::format("the guest plugged {} MiB of {} MiB in time", now.plugged_mib, want)
                : fmt::format(
                      "the guest could free only down to {} MiB of hotplug memory "
                      "(asked: {} MiB)",
                      now.plugged_mib, want);
  }
  return r;
}

std::function<MemoryStatus(std::optional<uint64_t>)> vmm_memory_lever(
    const std::filesystem::path& control_socket, std::chrono::milliseconds timeout) {
  return [control_socket, timeout](std::optional<uint64_t> requested_mib) {
    nlohmann::json request = {{"cmd", "memory"}};
    if (requested_mib) request["requested_mib"] = *requested_mib;
    nlohmann::json reply = vmm_control(control_socket, request, timeout);
    return MemoryStatus{.region_mib = reply.at("region_mib").get<uint64_t>(),
                        .requested_mib = reply.at("requested_mib").get<uint64_t>(),
                        .plugged_mib = reply.at("plugged_mib").get<uint64_t>()};
  };
}

VmLevers vm_levers(AgentClient& agent, std::optional<uint32_t> agent_api_version,
                   const std::filesystem::path& control_socket,
                   std::function<void(const VmmLimits&)> set_limits) {
  VmLevers l;
  l.online_cpus = [&agent, agent_api_version](uint32_t count) {
    return online_cpus(agent, count, agent_api_version);
  };
  l.memory = vmm_memory_lever(control_socket, std::chrono::seconds(5));
  l.set_limits = std::move(set_limits);
  l.wait = [] { std::this_thread::sleep_for(std::chrono::milliseconds(20)); };
  return l;
}

Demand update_limits(const Demand& before, const nlohmann::json& resources,
                     const std::function<void(const Demand&)>& resize,
                     const std::function<void()>& apply) {
  Demand after = demand_after_update(before, resources);
  resize(max_of(before, after));
  apply();
  resize(after);
  return after;
}

}  // namespace vmrt::sandbox
