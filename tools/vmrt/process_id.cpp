// ProcessId: a pid plus the start time from /proc/PID/stat, so that a record
// written long ago never mistakes a later process that reused the pid for the
// one it names.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <optional>
#include <sstream>

#include "common/error.h"
#include "common/fd.h"
#include "tools/vmrt/state_store.h"

namespace vmrt::cli {

namespace {

struct ProcStat {
  char state = '?';
  uint64_t start_time = 0;
};

// Fields 3 (state) and 22 (starttime) of /proc/PID/stat; nullopt when there
// is no such process. Field 2 is the command name in parentheses and may
// itself contain spaces and ')', so the fields are counted from the last ')'.
//
// Read with read(2), not a stream: the file of a process that exits between
// the open and the read fails with ESRCH, which libstdc++'s filebuf throws
// as an exception out of the read (`vmrt delete --force` racing the exit).
std::optional<ProcStat> read_stat(pid_t pid) {
  if (pid <= 0) return std::nullopt;
  UniqueFd fd(::open(("/proc/" + std::to_string(pid) + "/stat").c_str(), O_RDONLY | O_CLOEXEC));
  // Unopenable or unreadable: the process is gone (or was never there).
  if (!fd) return std::nullopt;
  // The kernel makes the whole file in one read; 52 numbers and a 16-byte
  // name stay well below this.
  char buf[4096];
  ssize_t n;
  do n = ::read(fd.get(), buf, sizeof buf);
  while (n < 0 && errno == EINTR);
  if (n <= 0) return std::nullopt;
  std::string text(buf, static_cast<size_t>(n));
  size_t close = text.rfind(')');
  if (close == std::string::npos) fail("/proc/{}/stat: unexpected format", pid);
  std::istringstream fields(text.substr(close + 1));
  ProcStat st;
  fields >> st.state;
  std::string skip;
  for (int field = 4; field < 22; ++field) fields >> skip;
  if (!(fields >> st.start_time)) fail("/proc/{}/stat: no start time (field 22)", pid);
  return st;
}

// A zombie has exited and only waits to be reaped; 'X' is its last moment.
bool running(const ProcStat& st) { return st.state != 'Z' && st.state != 'X'; }

}  // namespace

ProcessId ProcessId::of(pid_t pid) {
  std::optional<ProcStat> st = read_stat(pid);
  if (!st || !running(*st)) fail("no running process with pid {}", pid);
  return {pid, st->start_time};
}

bool ProcessId::alive() const {
  std::optional<ProcStat> st = read_stat(pid);
  return st && running(*st) && st->start_time == start_time;
}

}  // namespace vmrt::cli
