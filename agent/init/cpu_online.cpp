#include "agent/init/cpu_online.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <string>
#include <vector>

#include "agent/service/request_error.h"
#include "common/error.h"
#include "common/fd.h"

namespace vmrt::agent {
namespace fs = std::filesystem;

namespace {

// Far above any guest's CPU count (NR_CPUS is at most 8192): a larger
// number in a list is a malformed list, not a reason to loop for long.
constexpr uint32_t kMaxCpuNumber = 65535;

struct CpuRange {
  uint32_t first, last;
};

uint32_t parse_number(std::string_view s, std::string_view list) {
  uint32_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size() || v > kMaxCpuNumber)
    fail("CPU list \"{}\": \"{}\" is not a CPU number", list, s);
  return v;
}

std::vector<CpuRange> parse_cpu_list(std::string_view list) {
  std::string_view s = list;
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.remove_suffix(1);
  std::vector<CpuRange> out;
  while (!s.empty()) {
    size_t comma = s.find(',');
    std::string_view item = s.substr(0, comma);
    s = comma == std::string_view::npos ? std::string_view{} : s.substr(comma + 1);
    size_t dash = item.find('-');
    CpuRange r{};
    r.first = parse_number(item.substr(0, dash), list);
    r.last = dash == std::string_view::npos ? r.first : parse_number(item.substr(dash + 1), list);
    if (r.last < r.first) fail("CPU list \"{}\": range {} runs backwards", list, item);
    out.push_back(r);
  }
  return out;
}

bool in_list(const std::vector<CpuRange>& ranges, uint32_t cpu) {
  for (const CpuRange& r : ranges)
    if (cpu >= r.first && cpu <= r.last) return true;
  return false;
}

// A sysfs value: a CPU list or a flag. Read with a bound, as a file of the
// wrong kind could be endless.
std::string read_text(const fs::path& p) {
  UniqueFd fd(::open(p.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) throw_errno("cannot read " + p.string());
  char buf[4096];
  ssize_t n;
  do n = ::read(fd.get(), buf, sizeof buf);
  while (n < 0 && errno == EINTR);
  if (n < 0) throw_errno("cannot read " + p.string());
  return std::string(buf, static_cast<size_t>(n));
}

// The CPUs online and present now.
struct CpuSets {
  std::vector<CpuRange> present, online;
};

CpuSets read_sets(const fs::path& root) {
  return {parse_cpu_list(read_text(root / "present")), parse_cpu_list(read_text(root / "online"))};
}

fs::path online_file(const fs::path& root, uint32_t cpu) {
  return root / ("cpu" + std::to_string(cpu)) / "online";
}

// A CPU's own online file where it has one; a CPU without one (the boot
// CPU) is as the list says.
bool is_online(const fs::path& root, const CpuSets& sets, uint32_t cpu) {
  fs::path f = online_file(root, cpu);
  std::error_code ec;
  if (!fs::exists(f, ec)) return in_list(sets.online, cpu);
  std::string v = read_text(f);
  return !v.empty() && v[0] == '1';
}

void write_online(const fs::path& root, uint32_t cpu, bool online) {
  fs::path f = online_file(root, cpu);
  const char* what = online ? "bring it online" : "take it offline";
  UniqueFd fd(::open(f.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC));
  if (!fd) throw_errno(fmt::format("CPU {}: cannot {} ({})", cpu, what, f.string()));
  // The kernel does the whole hotplug inside this write and fails it with
  // the reason (EBUSY, EIO...).
  if (::write(fd.get(), online ? "1" : "0", 1) != 1)
    throw_errno(fmt::format("CPU {}: cannot {}", cpu, what));
}

CpuCounts count(const fs::path& root, const CpuSets& sets) {
  CpuCounts c;
  for (const CpuRange& r : sets.present)
    for (uint32_t cpu = r.first; cpu <= r.last; ++cpu) {
      ++c.present;
      if (is_online(root, sets, cpu)) ++c.online;
    }
  return c;
}

}  // namespace

uint32_t cpu_list_count(std::string_view list) {
  uint32_t n = 0;
  for (const CpuRange& r : parse_cpu_list(list)) n += r.last - r.first + 1;
  return n;
}

CpuCounts cpu_counts(const fs::path& root) { return count(root, read_sets(root)); }

CpuCounts set_online_cpus(const fs::path& root, uint32_t want) {
  CpuSets sets = read_sets(root);
  uint32_t present = 0;
  for (const CpuRange& r : sets.present) present += r.last - r.first + 1;
  if (want == 0) reject(Code::InvalidArgument, "OnlineCpus: count 0: CPU 0 always stays online");
  if (want > present)
    reject(Code::InvalidArgument, "OnlineCpus: {} CPUs asked for, but only {} are present", want,
           present);
  for (uint32_t cpu = 0; cpu < want; ++cpu) {
    if (!in_list(sets.present, cpu))
      fail("OnlineCpus: CPU {} is not present (present: {})", cpu, read_text(root / "present"));
    if (!is_online(root, sets, cpu)) write_online(root, cpu, true);
  }
  // Highest first: the CPUs brought online last go first.
  for (auto r = sets.present.rbegin(); r != sets.present.rend(); ++r)
    for (uint32_t cpu = r->last + 1; cpu-- > std::max(r->first, want);)
      if (cpu != 0 && is_online(root, sets, cpu)) write_online(root, cpu, false);
  return count(root, read_sets(root));
}

}  // namespace vmrt::agent
