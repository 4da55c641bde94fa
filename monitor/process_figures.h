#pragma once
// What a VMM costs the host, read from procfs: memory from
// /proc/PID/smaps_rollup and CPU time from /proc/PID/stat, summed over the
// VMM and the processes it forked (the virtio-fs file server is one).

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <string_view>

namespace vmrt::monitor {

struct MemoryFigures {
  uint64_t rss_bytes = 0;
  uint64_t pss_bytes = 0;
};

struct CpuFigures {
  uint64_t user_ticks = 0;    // utime, field 14
  uint64_t system_ticks = 0;  // stime, field 15
};

struct ProcessFigures {
  MemoryFigures memory;
  double user_seconds = 0;
  double system_seconds = 0;
  unsigned processes = 0;  // how many were summed
};

// The Rss: and Pss: lines of smaps_rollup text (in kB there). Throws
// vmrt::Error when either is missing or malformed.
MemoryFigures parse_smaps_rollup(std::string_view text);
// utime and stime of /proc/PID/stat text. The command name (field 2) may
// hold spaces and parentheses: fields are counted after its last ')'.
// Throws vmrt::Error on malformed text.
CpuFigures parse_proc_stat(std::string_view text);

// The figures of `pid` and its descendants (at most a few dozen processes,
// found through /proc/PID/task/TID/children), under `proc` (a procfs
// mount). Throws vmrt::Error when `pid` itself cannot be read; a child
// that ended meanwhile is left out.
ProcessFigures read_process_figures(pid_t pid, const std::filesystem::path& proc = "/proc");

}  // namespace vmrt::monitor
