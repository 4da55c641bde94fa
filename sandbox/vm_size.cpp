#include "sandbox/vm_size.h"

#include <algorithm>
#include <charconv>
#include <nlohmann/json.hpp>

#include "common/error.h"

namespace vmrt::sandbox {
namespace {

constexpr uint64_t kMib = 1024 * 1024;
constexpr uint64_t kDefaultCpuPeriodUs = 100000;  // the kernel's, when a quota comes alone

uint64_t round_up(uint64_t v, uint64_t unit) { return (v + unit - 1) / unit * unit; }

// Saturating: sums of hostile limits must not wrap to a small VM.
uint64_t add(uint64_t a, uint64_t b) { return a > UINT64_MAX - b ? UINT64_MAX : a + b; }

uint64_t millicpus(int64_t quota_us, uint64_t period_us) {
  if (quota_us <= 0) return 0;  // -1: unlimited
  if (period_us == 0) period_us = kDefaultCpuPeriodUs;
  unsigned __int128 m = static_cast<unsigned __int128>(quota_us) * 1000;
  m = (m + period_us - 1) / period_us;
  return m > UINT64_MAX ? UINT64_MAX : static_cast<uint64_t>(m);
}

// An optional integer member of `obj`, or `fallback`.
template <typename T>
T number_at(const nlohmann::json& obj, const char* table, const char* key, T fallback) {
  if (!obj.is_object()) return fallback;
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return fallback;
  bool negative = it->is_number_integer() && !it->is_number_unsigned() && it->get<int64_t>() < 0;
  if (!it->is_number_integer() || (std::is_unsigned_v<T> && negative))
    fail("resources.{}.{}: expected {}, got {}", table, key,
         std::is_unsigned_v<T> ? "a non-negative integer" : "an integer", it->dump());
  return it->get<T>();
}

uint64_t annotation_number(const std::map<std::string, std::string>& annotations,
                           const std::string& name) {
  auto it = annotations.find(name);
  if (it == annotations.end() || it->second.empty()) return 0;
  const std::string& s = it->second;
  // containerd writes these with strconv.FormatInt: a negative quota is
  // "no limit".
  int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size())
    fail("annotation {}: expected an integer, got \"{}\"", name, s);
  return v < 0 ? 0 : static_cast<uint64_t>(v);
}

}  // namespace

Demand& Demand::operator+=(const Demand& d) {
  memory_bytes = add(memory_bytes, d.memory_bytes);
  millicpus = add(millicpus, d.millicpus);
  return *this;
}

Demand demand_of(const nlohmann::json& resources) {
  if (resources.is_null()) return {};
  if (!resources.is_object()) fail("resources: expected an object, got {}", resources.dump());
  Demand d;
  auto memory = resources.value("memory", nlohmann::json());
  int64_t limit = number_at<int64_t>(memory, "memory", "limit", 0);
  d.memory_bytes = limit > 0 ? static_cast<uint64_t>(limit) : 0;
  auto cpu = resources.value("cpu", nlohmann::json());
  d.millicpus = millicpus(number_at<int64_t>(cpu, "cpu", "quota", 0),
                          number_at<uint64_t>(cpu, "cpu", "period", 0));
  return d;
}

Demand demand_after_update(const Demand& before, const nlohmann::json& resources) {
  Demand given = demand_of(resources);
  Demand after = before;
  auto names = [&](const char* table, const char* key) {
    auto t = resources.find(table);
    return t != resources.end() && t->is_object() && t->contains(key) && !(*t)[key].is_null();
  };
  if (names("memory", "limit")) after.memory_bytes = given.memory_bytes;
  if (names("cpu", "quota")) after.millicpus = given.millicpus;
  return after;
}

Demand max_of(const Demand& a, const Demand& b) {
  return {.memory_bytes = std::max(a.memory_bytes, b.memory_bytes),
          .millicpus = std::max(a.millicpus, b.millicpus)};
}

Demand pod_demand(const std::map<std::string, std::string>& annotations) {
  Demand d;
  d.memory_bytes = annotation_number(annotations, "io.kubernetes.cri.sandbox-memory");
  uint64_t quota = annotation_number(annotations, "io.kubernetes.cri.sandbox-cpu-quota");
  uint64_t period = annotation_number(annotations, "io.kubernetes.cri.sandbox-cpu-period");
  d.millicpus = millicpus(static_cast<int64_t>(std::min<uint64_t>(quota, INT64_MAX)), period);
  return d;
}

VmCapacity capacity_of(const RuntimeConfig& config) {
  uint64_t max_mib = std::max(config.memory_mib, config.annotations.max_memory_mib);
  return {.max_vcpus = std::max(config.vcpus, config.annotations.max_vcpus),
          .hotplug_mib = (max_mib - config.memory_mib) / kHotplugBlockMib * kHotplugBlockMib};
}

VmSize size_for(const RuntimeConfig& config, const Demand& demand) {
  VmCapacity cap = capacity_of(config);
  uint64_t extra_mib =
      round_up(demand.memory_bytes / kMib + (demand.memory_bytes % kMib != 0), kHotplugBlockMib);
  uint64_t cpus = demand.millicpus / 1000 + (demand.millicpus % 1000 != 0);
  return {.vcpus = static_cast<uint32_t>(std::clamp<uint64_t>(cpus, config.vcpus, cap.max_vcpus)),
          .memory_mib = config.memory_mib + std::min(extra_mib, cap.hotplug_mib)};
}

PodOverhead pod_overhead(const RuntimeConfig& config) {
  // Measured (docs/benchmarks.md, "pod overhead"): PSS of the shim, the
  // VMM outside guest RAM and the file server of one pod, rounded up with
  // room for the virtqueue buffers of a busy pod.
  constexpr uint64_t kHostSideMib = 24;
  // The device threads and the base vCPU's idle work (timer ticks, the
  // agent), beyond the CPU limits the vCPUs were sized for.
  constexpr uint64_t kMillicpus = 250;
  return {.memory_mib = config.memory_mib + kHostSideMib, .millicpus = kMillicpus};
}

}  // namespace vmrt::sandbox
