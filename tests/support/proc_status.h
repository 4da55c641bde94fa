#pragma once
// Fields of /proc/<pid>/status (and /proc/<pid>/task/<tid>/status), which the
// tests read to see a process's uids, capabilities, seccomp mode and memory.

#include <sys/types.h>

#include <filesystem>
#include <string>

namespace vmrt::test {

// What follows "KEY:" in `status_file`, without the separating whitespace
// ("65534\t65534\t65534\t65534" for Uid), or "<no KEY>" when the file or the
// field is missing (a process that went away).
std::string proc_status_value(const std::filesystem::path& status_file, const std::string& key);
std::string proc_status_value(pid_t pid, const std::string& key);

// A "<n> kB" field (VmRSS, VmHWM ...) in KiB, or -1 when it is missing.
long proc_status_kib(pid_t pid, const std::string& key);

}  // namespace vmrt::test
