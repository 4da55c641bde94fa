#pragma once
// The container runtime inside the agent ("the runc part"): turns an OCI
// runtime spec and a rootfs into a running, isolated process tree, and
// manages it until it is destroyed.
//
// Lifecycle, as runc's create/start split:
//   create()  clones the container's init into new namespaces and its cgroup,
//             sets up mounts, pivot_root, hostname, rlimits, user, caps and
//             (usually) seccomp, then blocks it just before execve;
//   start()   releases it: execve of process.args; an exec failure is
//             reported by start() itself;
//   destroy() kills every process of the container, removes its cgroup and
//             state directory. Every mount the container made lives in its own
//             mount namespace and disappears with its last process, so nothing
//             is left behind. The destructor destroys too.
//
// Children and reaping. The library never calls waitpid(-1): each process it
// starts is waited for through its pidfd. A caller that is PID 1 (or a child
// subreaper) and must reap orphans calls reap_children() below instead of its
// own waitpid(-1) loop, so that the exit status of a container's process is
// kept for its owner rather than lost. SIGCHLD must not be ignored (SIG_IGN
// would make the kernel discard every status).
//
// Thread safety: one Container or Process is used by one thread at a time;
// different containers may be created and driven from different threads.
// The child between clone and execve makes system calls only (no allocation,
// no locks), so a multithreaded agent can create containers safely.

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/fd.h"
#include "common/oci/spec.h"
#include "common/process.h"

namespace vmrt::agent {

struct ExitSlot;  // internal: where a reaped process's status is kept
class Process;
struct StdioConfig;

// Starts `process` outside every container: in the caller's own namespaces
// and cgroup, as the caller runs (for the agent, guest root with all its
// capabilities). For the debug console, which the caller allows only when
// its operator said so. args, env, cwd, terminal and consoleSize apply;
// user, capabilities, rlimits and oomScoreAdj do not. Errors as
// Container::exec().
std::unique_ptr<Process> start_outside_containers(const oci::Process& process,
                                                  const StdioConfig& stdio);

// How the standard streams of a container's process reach the caller.
struct StdioConfig {
  enum class Kind {
    Pipes,     // three pipes; the caller gets the parent ends (ProcessStdio in/out/err)
    Terminal,  // a pty allocated inside the container (its own devpts); the caller gets the
               // master (ProcessStdio::terminal); size from process.consoleSize
    Null,      // /dev/null on 0, 1 and 2
    Fds,       // the caller's descriptors, duplicated into the process (-1: /dev/null)
  };
  Kind kind = Kind::Pipes;
  int in = -1, out = -1, err = -1;  // Kind::Fds only; still owned by the caller

  static StdioConfig pipes() { return {Kind::Pipes}; }
  static StdioConfig terminal() { return {Kind::Terminal}; }
  static StdioConfig null() { return {Kind::Null}; }
  static StdioConfig fds(int in, int out, int err) { return {Kind::Fds, in, out, err}; }
  // Terminal when process.terminal is set, else pipes.
  static StdioConfig for_process(const oci::Process& process) {
    return process.terminal ? terminal() : pipes();
  }
};

// The caller's ends of a process's standard streams; each is invalid when
// StdioConfig did not ask for it. The caller may move them out.
struct ProcessStdio {
  UniqueFd in, out, err;  // Kind::Pipes: write to in, read out and err
  UniqueFd terminal;      // Kind::Terminal: the pty master (read and write)
};

struct ContainerOptions {
  std::string id;                // [A-Za-z0-9_.-]+, unique among the caller's containers
  oci::Spec spec;                // already parsed and validated (oci::parse_spec)
  std::filesystem::path bundle;  // relative root.path and mount sources resolve here
  // The root filesystem; empty means spec.root.path (relative to the bundle).
  std::filesystem::path rootfs;
  // Mount an overlay on the rootfs whose writable upper layer is a tmpfs
  // private to the container, so the (shared, possibly read-only) rootfs is
  // never written: for root.readonly it holds the mount points and device
  // nodes. Otherwise the rootfs is bind-mounted and written in place.
  bool overlay_rootfs = false;
  // The caller's state directory; the container keeps STATE_DIR/ID there
  // (created by create(), removed by destroy()).
  std::filesystem::path state_dir = "/run/vmrt-agent";
  // A cgroup v2 mount. The container's cgroup is CGROUP_ROOT/linux.cgroupsPath
  // (a leading '/' is relative to CGROUP_ROOT too), or CGROUP_ROOT/vmrt/ID when
  // the spec has none. Controllers are enabled on the way down as far as the
  // root offers them; a limit for a controller the root does not offer is an
  // error, a spec without limits works on a cgroup2 mount without controllers.
  std::filesystem::path cgroup_root = "/sys/fs/cgroup";
  StdioConfig stdio;  // of the init process (process.terminal asks for Terminal)
};

// cgroup v2 statistics; a part is nullopt when its controller is not enabled
// in the container's cgroup.
struct Stats {
  struct Cpu {
    uint64_t usage_usec = 0, user_usec = 0, system_usec = 0;
    uint64_t nr_periods = 0, nr_throttled = 0, throttled_usec = 0;  // cpu controller only
  };
  struct Memory {
    uint64_t current = 0;
    std::optional<uint64_t> max;  // nullopt: "max"
    uint64_t swap_current = 0;
    uint64_t oom = 0, oom_kill = 0;        // memory.events
    std::map<std::string, uint64_t> stat;  // memory.stat, every key
  };
  struct Pids {
    uint64_t current = 0;
    std::optional<uint64_t> max;  // nullopt: "max"
  };
  struct IoDevice {
    uint32_t major = 0, minor = 0;
    uint64_t rbytes = 0, wbytes = 0, rios = 0, wios = 0, dbytes = 0, dios = 0;
  };
  Cpu cpu;  // usage is always there (cgroup core)
  std::optional<Memory> memory;
  std::optional<Pids> pids;
  std::optional<std::vector<IoDevice>> io;
};

// A process running in a container: its init or one started by exec().
class Process {
 public:
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;
  ~Process();  // SIGKILL and reap if still running

  pid_t pid() const noexcept { return pid_; }  // in the caller's pid namespace
  // Readable (POLLIN) once the process has exited: for event loops. Then
  // try_wait() returns its status without blocking.
  int pidfd() const noexcept { return pidfd_.get(); }
  ProcessStdio& stdio() noexcept { return stdio_; }

  // Delivers `sig` through the pidfd (never to a recycled pid); a no-op once
  // the process has exited.
  void signal(int sig);
  ExitStatus wait();
  std::optional<ExitStatus> try_wait();
  // Sets the terminal size; an error when the process has no terminal.
  void resize_terminal(uint16_t rows, uint16_t cols);

 private:
  friend class Container;
  friend std::unique_ptr<Process> start_outside_containers(const oci::Process&, const StdioConfig&);
  Process() = default;

  pid_t pid_ = -1;
  UniqueFd pidfd_;
  ProcessStdio stdio_;
  std::shared_ptr<ExitSlot> exit_;
};

class Container {
 public:
  enum class State { Created, Running, Paused, Stopped };

  // Sets the container up and leaves its init blocked before execve. Throws
  // vmrt::Error naming the failed step (e.g. "container c1: mounting proc on
  // /proc: Permission denied"); nothing is left behind after a failure.
  static std::unique_ptr<Container> create(ContainerOptions options);
  ~Container();  // destroy(); errors are logged

  Container(const Container&) = delete;
  Container& operator=(const Container&) = delete;

  const std::string& id() const noexcept { return options_.id; }
  const oci::Spec& spec() const noexcept { return options_.spec; }
  State state();
  const std::filesystem::path& cgroup_path() const noexcept { return cgroup_; }

  // Executes process.args in the prepared init. Throws when execve fails (the
  // container is then stopped) or when it was started already.
  void start();

  pid_t pid() const noexcept { return init_->pid(); }
  Process& init() noexcept { return *init_; }
  int pidfd() const noexcept { return init_->pidfd(); }
  // The init's status. While waiting, exec'd processes that have exited are
  // reaped too (their handles keep the status): the kernel does not let the
  // init of a pid namespace finish exiting while one of them is a zombie.
  ExitStatus wait();
  std::optional<ExitStatus> try_wait();

  // To the init process, or with `all` to every process in the cgroup.
  void signal(int sig, bool all = false);

  // Starts another process in the running container: same namespaces,
  // cgroup, rootfs, seccomp filter; user, caps, env, cwd, rlimits, terminal
  // from `process`. Errors as create().
  std::unique_ptr<Process> exec(const oci::Process& process, const StdioConfig& stdio);

  void pause();   // cgroup.freeze, waits until frozen
  void resume();  // thaws
  Stats stats();
  // Applies linux.resources to the cgroup (the same translation as create()).
  void update(const oci::Resources& resources);
  // Pids (in the caller's namespace) of every process in the cgroup.
  std::vector<pid_t> processes();
  void resize_terminal(uint16_t rows, uint16_t cols) { init_->resize_terminal(rows, cols); }

  // OOM kills. oom_event_fd() is an inotify descriptor on memory.events that
  // becomes readable (POLLIN) when the counters change; read it to rearm and
  // compare oom_kill_count() with the last value. -1 (and a count of 0) when
  // the memory controller is not enabled.
  int oom_event_fd() const noexcept { return oom_watch_.get(); }
  uint64_t oom_kill_count();

  // Kills every process (cgroup.kill), reaps init, removes the cgroup and the
  // state directory. Idempotent. Processes from exec() are killed too; their
  // handles still report the status.
  void destroy();

 private:
  struct Impl;  // the plan, the cgroup, the sync socket
  explicit Container(ContainerOptions options);
  static std::unique_ptr<Process> make_process(pid_t pid, UniqueFd pidfd,
                                               std::shared_ptr<ExitSlot> exit);

  ContainerOptions options_;
  std::filesystem::path cgroup_;
  std::unique_ptr<Impl> impl_;
  std::unique_ptr<Process> init_;
  UniqueFd oom_watch_;
};

// Reaps every exited child of the calling process (waitpid(-1, WNOHANG)
// until none is left), keeping the statuses of processes started by this
// library for their Process::wait(). For callers that are PID 1 or a child
// subreaper; call it on SIGCHLD (from a normal thread, not a signal handler).
// Returns the other reaped children with their statuses.
std::vector<std::pair<pid_t, ExitStatus>> reap_children();

}  // namespace vmrt::agent
