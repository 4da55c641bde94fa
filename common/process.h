#pragma once
// Child processes: spawned with an argv, reaped exactly once, and killed if
// their owner goes away first, so no stray process outlives a failure.

#include <signal.h>
#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "common/fd.h"

namespace vmrt {

struct ExitStatus {
  bool exited = false;  // else killed by `signal`
  int code = 0;
  int signal = 0;
  bool success() const { return exited && code == 0; }
  std::string to_string() const;  // "exited with status 3", "killed by signal 9 (Killed)"
  // From what waitid(2) reports for an ended child.
  static ExitStatus from_siginfo(const siginfo_t& info);
};

// Where one of the child's standard streams goes.
struct Stdio {
  enum class Kind { Inherit, Null, Pipe, Fd };
  Kind kind = Kind::Inherit;
  int fd = -1;  // Kind::Fd: duplicated into the child, still owned by the caller

  static Stdio inherit() { return {}; }
  static Stdio null() { return {Kind::Null}; }
  static Stdio pipe() { return {Kind::Pipe}; }  // the parent's end: Subprocess::*_fd()
  static Stdio to_fd(int fd) { return {Kind::Fd, fd}; }
};

struct SpawnOptions {
  // KEY=VALUE entries added to the parent's environment, replacing a
  // variable of the same name.
  std::vector<std::string> extra_env;
  // The child's environment is extra_env alone (an OCI hook's "env").
  bool clean_env = false;
  // The file to execute when it is not argv[0] (an OCI hook's "path", whose
  // "args" start with whatever argv[0] it wants). Empty: argv[0].
  std::string program;
  std::filesystem::path cwd;  // empty: the parent's
  // stdin defaults to /dev/null so a child never competes for the caller's
  // terminal or control stream.
  Stdio in = Stdio::null();
  Stdio out = Stdio::inherit();
  Stdio err = Stdio::inherit();
  // The child leads a new process group; kill() and the destructor then
  // signal the whole group, reaching grandchildren too.
  bool new_process_group = false;
  // Descriptors the child keeps, at the same numbers. Every other descriptor
  // above 2 is closed on exec, even one opened without O_CLOEXEC.
  std::vector<int> pass_fds;
  // Descriptors the child gets as 3, 4, 5 ... in this order (Go's
  // exec.Cmd.ExtraFiles, which containerd's logging binaries expect). They
  // take those numbers from whatever the child had there.
  std::vector<int> extra_fds;
  // Sent to the child when the thread that spawned it exits (PR_SET_PDEATHSIG),
  // so a child such as a VMM cannot outlive an owner that was SIGKILLed.
  // Spawn from a thread that lives as long as the owner. 0: none.
  int parent_death_signal = 0;
  // CLONE_NEW* flags: the child starts in these new namespaces (a VMM in a
  // pid namespace of its own). With CLONE_NEWPID the child cannot tell
  // whether its parent died just before parent_death_signal took effect.
  uint64_t namespaces = 0;
  // An O_DIRECTORY fd of a cgroup v2 directory the child starts in
  // (CLONE_INTO_CGROUP), so that it runs no instruction outside it. -1: the
  // parent's cgroup.
  int cgroup_fd = -1;
  // cgroup v1, which CLONE_INTO_CGROUP cannot reach: `cgroup.procs` files
  // open for writing, which the child joins before it does anything else
  // (before exec, so a VMM's first allocation is charged there).
  std::vector<int> join_cgroup_procs;
};

class Subprocess {
 public:
  // Starts argv[0] (searched in PATH when it has no '/'). Throws vmrt::Error
  // naming the program when it cannot be started, e.g.
  //   cannot execute /no/such/tool: No such file or directory
  static Subprocess spawn(const std::vector<std::string>& argv, const SpawnOptions& options = {});

  Subprocess(Subprocess&& other) noexcept;
  Subprocess& operator=(Subprocess&& other) noexcept;
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;
  ~Subprocess();  // SIGKILL and reap if still running

  pid_t pid() const noexcept { return pid_; }
  // The parent's ends of Stdio::pipe() streams; -1 for other kinds.
  int stdin_fd() const noexcept { return in_.get(); }
  int stdout_fd() const noexcept { return out_.get(); }
  int stderr_fd() const noexcept { return err_.get(); }
  void close_stdin() noexcept { in_.reset(); }

  // Signals the child (its group with new_process_group); a no-op once reaped.
  void kill(int sig) const;
  ExitStatus wait();
  // nullopt when the child is still running after `timeout`.
  std::optional<ExitStatus> wait_for(std::chrono::milliseconds timeout);

 private:
  Subprocess() = default;
  void kill_and_reap() noexcept;

  pid_t pid_ = -1;
  bool group_ = false;
  std::optional<ExitStatus> status_;
  UniqueFd in_, out_, err_;
};

struct RunResult {
  ExitStatus status;
  bool timed_out = false;  // killed with SIGKILL at the timeout
  std::string out, err;    // everything the child wrote to stdout and stderr
};

// Runs argv to completion, collecting stdout and stderr (options.out and
// options.err are replaced by pipes). A child still running after `timeout`
// is killed and reported as timed out; a child that closes its output early
// is still waited for only until the timeout.
RunResult run_capture(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
                      const SpawnOptions& options = {});

}  // namespace vmrt
