#include "agent/container/cgroup_resources.h"

#include <filesystem>
#include <regex>

#include "common/error.h"

namespace vmrt::agent {

namespace {

constexpr const char* kWhere = "linux.resources";

// Byte limits: -1 is unlimited, 0 unset (as runc reads them).
std::optional<std::string> byte_limit(std::optional<int64_t> v, const char* field) {
  if (!v || *v == 0) return std::nullopt;
  if (*v == -1) return "max";
  if (*v < 0) fail("{}.{}: {} is not a limit (use -1 for none)", kWhere, field, *v);
  return std::to_string(*v);
}

// cpu.shares [2, 262144] onto cpu.weight [1, 10000].
uint64_t shares_to_weight(uint64_t shares) {
  shares = std::clamp<uint64_t>(shares, 2, 262144);
  return 1 + ((shares - 2) * 9999) / 262142;
}

// blkio.weight [10, 1000] onto io.weight [1, 10000].
uint64_t blkio_to_io_weight(uint16_t weight, const std::string& field) {
  if (weight < 10 || weight > 1000)
    fail("{}.blockIO.{}: {} is outside 10..1000", kWhere, field, weight);
  return 1 + (uint64_t(weight) - 10) * 9999 / 990;
}

void memory(const oci::Memory& m, std::vector<CgroupWrite>& out) {
  auto limit = byte_limit(m.limit, "memory.limit");
  if (limit) out.push_back({"memory.max", *limit});
  if (auto low = byte_limit(m.reservation, "memory.reservation"))
    out.push_back({"memory.low", *low});
  if (m.swap && *m.swap != 0) {
    // The spec's swap is memory plus swap; memory.swap.max is swap alone.
    if (*m.swap == -1) {
      out.push_back({"memory.swap.max", "max"});
    } else if (*m.swap < 0) {
      fail("{}.memory.swap: {} is not a limit (use -1 for none)", kWhere, *m.swap);
    } else if (!limit || *limit == "max") {
      fail("{}.memory.swap: a swap limit needs a memory limit", kWhere);
    } else if (*m.swap < *m.limit) {
      fail("{}.memory.swap: {} is less than memory.limit {} (swap counts memory plus swap)", kWhere,
           *m.swap, *m.limit);
    } else {
      out.push_back({"memory.swap.max", std::to_string(*m.swap - *m.limit)});
    }
  }
  if (m.kernel && *m.kernel != 0)
    fail("{}.memory.kernel: kernel memory limits do not exist in cgroup v2", kWhere);
  if (m.kernel_tcp && *m.kernel_tcp != 0)
    fail("{}.memory.kernelTCP: kernel memory limits do not exist in cgroup v2", kWhere);
  // swappiness and disableOOMKiller have no v2 file; runc ignores them too.
}

void cpu(const oci::Cpu& c, std::vector<CgroupWrite>& out) {
  if (c.shares && *c.shares != 0)
    out.push_back({"cpu.weight", std::to_string(shares_to_weight(*c.shares))});
  if (c.quota || c.period) {
    std::string quota = c.quota && *c.quota > 0 ? std::to_string(*c.quota) : "max";
    uint64_t period = c.period && *c.period ? *c.period : 100000;
    out.push_back({"cpu.max", fmt::format("{} {}", quota, period)});
  }
  if (c.burst) out.push_back({"cpu.max.burst", std::to_string(*c.burst)});
  if (c.idle) out.push_back({"cpu.idle", std::to_string(*c.idle)});
  if (!c.cpus.empty()) out.push_back({"cpuset.cpus", c.cpus});
  if (!c.mems.empty()) out.push_back({"cpuset.mems", c.mems});
  if ((c.realtime_runtime && *c.realtime_runtime) || (c.realtime_period && *c.realtime_period))
    fail("{}.cpu: realtime CPU limits do not exist in cgroup v2", kWhere);
}

// A weight of 0 is unset, as runc reads it: Docker writes "weight": 0 into
// every spec it makes.
void block_io(const oci::BlockIo& b, std::vector<CgroupWrite>& out) {
  if (b.weight && *b.weight != 0)
    out.push_back(
        {"io.weight", fmt::format("default {}", blkio_to_io_weight(*b.weight, "weight"))});
  for (size_t i = 0; i < b.weight_device.size(); ++i) {
    const oci::WeightDevice& d = b.weight_device[i];
    if (d.weight && *d.weight != 0)
      out.push_back({"io.weight", fmt::format("{}:{} {}", d.major, d.minor,
                                              blkio_to_io_weight(
                                                  *d.weight, fmt::format("weightDevice[{}]", i)))});
  }
  for (auto [list, key] : {std::pair{&b.throttle_read_bps_device, "rbps"},
                           {&b.throttle_write_bps_device, "wbps"},
                           {&b.throttle_read_iops_device, "riops"},
                           {&b.throttle_write_iops_device, "wiops"}})
    for (const oci::ThrottleDevice& d : *list)
      out.push_back({"io.max", fmt::format("{}:{} {}={}", d.major, d.minor, key,
                                           d.rate ? std::to_string(d.rate) : "max")});
}

}  // namespace

std::vector<CgroupWrite> plan_resources(const oci::Resources& r) {
  std::vector<CgroupWrite> out;
  if (r.memory) memory(*r.memory, out);
  if (r.cpu) cpu(*r.cpu, out);
  if (r.pids)
    out.push_back({"pids.max", r.pids->limit > 0 ? std::to_string(r.pids->limit) : "max"});
  if (r.block_io) block_io(*r.block_io, out);
  static const std::regex page_size("[0-9]+[KMG]B");
  for (size_t i = 0; i < r.hugepage_limits.size(); ++i) {
    const oci::HugepageLimit& h = r.hugepage_limits[i];
    if (!std::regex_match(h.page_size, page_size))
      fail("{}.hugepageLimits[{}].pageSize: \"{}\" is not a page size like 2MB", kWhere, i,
           h.page_size);
    out.push_back({fmt::format("hugetlb.{}.max", h.page_size), std::to_string(h.limit)});
  }
  if (r.network && (r.network->class_id || !r.network->priorities.empty()))
    fail("{}.network: net_cls and net_prio do not exist in cgroup v2", kWhere);
  static const std::regex file_name("[a-z0-9_]+\\.[a-z0-9_.]+");
  for (const auto& [file, value] : r.unified) {
    if (!std::regex_match(file, file_name) || file.find("..") != std::string::npos)
      fail("{}.unified: \"{}\" is not a cgroup v2 interface file name", kWhere, file);
    if (file.rfind("cgroup.", 0) == 0 && file != "cgroup.max.depth" &&
        file != "cgroup.max.descendants")
      fail("{}.unified: \"{}\" is the runtime's to manage", kWhere, file);
    out.push_back({file, value});
  }
  return out;
}

std::set<std::string> controllers_of(const std::vector<CgroupWrite>& writes) {
  std::set<std::string> out;
  for (const CgroupWrite& w : writes) {
    std::string c = w.file.substr(0, w.file.find('.'));
    if (c != "cgroup") out.insert(c);
  }
  return out;
}

std::string cgroup_relative_path(const std::string& cgroups_path, const std::string& id) {
  std::string path = cgroups_path;
  if (path.empty()) return "vmrt/" + id;
  if (path.find(':') != std::string::npos) {
    size_t a = path.find(':'), b = path.find(':', a + 1);
    if (b == std::string::npos || path.find(':', b + 1) != std::string::npos)
      fail("linux.cgroupsPath: \"{}\" is neither a path nor slice:prefix:name", cgroups_path);
    std::string slice = path.substr(0, a), prefix = path.substr(a + 1, b - a - 1),
                name = path.substr(b + 1);
    if (name.empty()) name = id;
    path = (slice.empty() ? "" : slice + "/") + (prefix.empty() ? name : prefix + "-" + name) +
           ".scope";
  }
  std::filesystem::path p(path);
  for (const auto& part : p)
    if (part == "..") fail("linux.cgroupsPath: \"{}\" climbs out of the cgroup root", cgroups_path);
  std::string norm = ("/" / p).lexically_normal().relative_path().string();
  while (!norm.empty() && norm.back() == '/') norm.pop_back();
  if (norm.empty()) fail("linux.cgroupsPath: \"{}\" names the cgroup root", cgroups_path);
  return norm;
}

}  // namespace vmrt::agent
