#include "monitor/process_figures.h"

#include <unistd.h>

#include <charconv>
#include <deque>
#include <set>
#include <string>
#include <vector>

#include "common/error.h"
#include "monitor/bounded_file.h"

namespace vmrt::monitor {
namespace {

// A VMM forks its file server; anything far beyond that is not a VMM's tree
// and is not worth reading on every scrape.
constexpr unsigned kMaxProcesses = 32;
constexpr size_t kMaxProcFile = 64 * 1024;

bool parse_u64(std::string_view s, uint64_t& out) {
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size() && !s.empty();
}

// The value of "Key:   123 kB" in smaps_rollup text, in bytes.
uint64_t kb_line(std::string_view text, std::string_view key) {
  for (size_t at = 0; at < text.size();) {
    size_t nl = text.find('\n', at);
    std::string_view line = text.substr(at, nl == std::string_view::npos ? nl : nl - at);
    at = nl == std::string_view::npos ? text.size() : nl + 1;
    if (!line.starts_with(key) || line.size() <= key.size() || line[key.size()] != ':') continue;
    std::string_view rest = line.substr(key.size() + 1);
    size_t b = rest.find_first_not_of(' ');
    size_t e = rest.find(' ', b);
    uint64_t kb = 0;
    if (b == std::string_view::npos || !parse_u64(rest.substr(b, e - b), kb) ||
        rest.substr(e == std::string_view::npos ? rest.size() : e) != " kB" ||
        kb > (UINT64_MAX >> 10))
      fail("smaps_rollup: malformed {} line", key);
    return kb << 10;
  }
  fail("smaps_rollup: no {} line", key);
}

std::string proc_file(const std::filesystem::path& proc, pid_t pid, const char* name) {
  auto text = read_bounded(proc / std::to_string(pid) / name, kMaxProcFile);
  if (!text) fail("process {} is gone", pid);
  return *text;
}

// The children of every thread of `pid`: a child's parent is the thread
// that forked it.
std::vector<pid_t> children_of(pid_t pid, const std::filesystem::path& proc) {
  std::vector<pid_t> out;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(proc / std::to_string(pid) / "task", ec), end;
       !ec && it != end; it.increment(ec)) {
    const auto& task = *it;
    std::optional<std::string> text;
    try {
      text = read_bounded(task.path() / "children", kMaxProcFile);
    } catch (const Error&) {
      continue;  // a thread that ended meanwhile
    }
    if (!text) continue;
    std::string_view s = *text;
    while (!s.empty()) {
      size_t sp = s.find(' ');
      uint64_t child = 0;
      if (parse_u64(s.substr(0, sp), child) && child > 0 && child < (1u << 31))
        out.push_back(static_cast<pid_t>(child));
      s = sp == std::string_view::npos ? std::string_view() : s.substr(sp + 1);
    }
  }
  return out;
}

}  // namespace

MemoryFigures parse_smaps_rollup(std::string_view text) {
  return {.rss_bytes = kb_line(text, "Rss"), .pss_bytes = kb_line(text, "Pss")};
}

CpuFigures parse_proc_stat(std::string_view text) {
  size_t close = text.rfind(')');
  if (close == std::string_view::npos) fail("/proc stat: no command name");
  // After ") ": field 3 (state) onwards; utime and stime are fields 14, 15.
  std::string_view rest = text.substr(close + 1);
  CpuFigures c;
  int field = 2;
  while (!rest.empty() && field < 15) {
    size_t b = rest.find_first_not_of(' ');
    if (b == std::string_view::npos) break;
    rest = rest.substr(b);
    size_t e = rest.find_first_of(" \n");
    std::string_view word = rest.substr(0, e);
    rest = e == std::string_view::npos ? std::string_view() : rest.substr(e);
    ++field;
    if (field == 14 && !parse_u64(word, c.user_ticks)) fail("/proc stat: malformed utime");
    if (field == 15 && !parse_u64(word, c.system_ticks)) fail("/proc stat: malformed stime");
  }
  if (field < 15) fail("/proc stat: {} fields, expected at least 15", field);
  return c;
}

ProcessFigures read_process_figures(pid_t pid, const std::filesystem::path& proc) {
  static const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  ProcessFigures out;
  std::deque<pid_t> todo{pid};
  std::set<pid_t> seen;
  while (!todo.empty() && out.processes < kMaxProcesses) {
    pid_t p = todo.front();
    todo.pop_front();
    if (!seen.insert(p).second) continue;
    MemoryFigures m;
    CpuFigures c;
    try {
      m = parse_smaps_rollup(proc_file(proc, p, "smaps_rollup"));
      c = parse_proc_stat(proc_file(proc, p, "stat"));
    } catch (const Error&) {
      if (p == pid) throw;
      continue;  // a child that ended between the listing and the read
    }
    out.memory.rss_bytes += m.rss_bytes;
    out.memory.pss_bytes += m.pss_bytes;
    out.user_seconds += static_cast<double>(c.user_ticks) / ticks;
    out.system_seconds += static_cast<double>(c.system_ticks) / ticks;
    ++out.processes;
    for (pid_t child : children_of(p, proc)) todo.push_back(child);
  }
  return out;
}

}  // namespace vmrt::monitor
