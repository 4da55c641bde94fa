#include "common/process.h"

#include <fcntl.h>
#include <linux/sched.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <string_view>
#include <thread>

#include "common/error.h"

extern char** environ;

namespace vmrt {

namespace {

using Clock = std::chrono::steady_clock;

ExitStatus decode(int raw) {
  ExitStatus s;
  if (WIFEXITED(raw)) {
    s.exited = true;
    s.code = WEXITSTATUS(raw);
  } else if (WIFSIGNALED(raw)) {
    s.signal = WTERMSIG(raw);
  }
  return s;
}

std::pair<UniqueFd, UniqueFd> make_pipe() {
  int fds[2];
  check_sys(pipe2(fds, O_CLOEXEC), "pipe2");
  return {UniqueFd(fds[0]), UniqueFd(fds[1])};
}

// Milliseconds until `deadline`, rounded up so that a poll never wakes just
// before it and spins; 0 once it has passed.
int ms_until(Clock::time_point deadline) {
  auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return static_cast<int>(std::clamp<decltype(left)>(left, 0, 1 << 30));
}

// glibc 2.36's <sys/pidfd.h> lacks extern "C", so C++ cannot link against
// its pidfd_open; the raw system call has no such problem.
int open_pidfd(pid_t pid) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }

std::string_view env_key(std::string_view entry) { return entry.substr(0, entry.find('=')); }

// The parent's environment with `extra` replacing variables of the same name
// (appending alone would not do: getenv finds the first of two entries).
std::vector<std::string> child_env(const std::vector<std::string>& extra, bool clean) {
  for (const std::string& e : extra)
    if (e.find('=') == std::string::npos || e.front() == '=')
      fail("environment entry \"{}\" is not KEY=VALUE", e);
  if (clean) return extra;
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e) {
    std::string_view key = env_key(*e);
    if (std::none_of(extra.begin(), extra.end(),
                     [&](const std::string& x) { return env_key(x) == key; }))
      env.emplace_back(*e);
  }
  env.insert(env.end(), extra.begin(), extra.end());
  return env;
}

std::vector<char*> c_strings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (std::string& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

// One standard stream of the child: `source` becomes its fd 0, 1 or 2 (-1:
// inherited); `parent_end` is the parent's side of a pipe.
struct Stream {
  int source = -1;
  UniqueFd child_end, parent_end;
};

Stream plan_stream(const Stdio& s, int target, int devnull) {
  Stream out;
  switch (s.kind) {
    case Stdio::Kind::Inherit:
      break;
    case Stdio::Kind::Null:
      out.source = devnull;
      break;
    case Stdio::Kind::Pipe: {
      auto [r, w] = make_pipe();
      out.child_end = target == STDIN_FILENO ? std::move(r) : std::move(w);
      out.parent_end = target == STDIN_FILENO ? std::move(w) : std::move(r);
      out.source = out.child_end.get();
      break;
    }
    case Stdio::Kind::Fd:
      if (s.fd < 0) fail("Stdio::to_fd for fd {} needs an open descriptor", target);
      out.source = s.fd;
      break;
  }
  return out;
}

// What the child reports on the error pipe when it cannot reach exec.
enum class Stage : int { Setup, Chdir, Exec };
struct ChildFailure {
  Stage stage;
  int err;
};

[[noreturn]] void child_fail(int report, Stage stage) {
  ChildFailure f{stage, errno};
  [[maybe_unused]] ssize_t n = ::write(report, &f, sizeof f);
  _exit(127);
}

struct ChildPlan {
  const char* program;
  char** argv;
  char** envp;
  const char* cwd;  // nullptr: stay
  int sources[3];
  bool new_group;
  int death_signal;
  pid_t parent;  // 0 when the child is in a new pid namespace (getppid's view)
  const std::vector<int>* pass_fds;
  int* extra_fds;  // a copy the child may change
  size_t extra_count;
  int report;  // close-on-exec: a successful exec closes it, telling the parent
  const std::vector<int>* cgroup_procs;
};

// Runs in the forked child. Only async-signal-safe calls: another thread of
// the parent may have held a lock (malloc's, say) at the moment of fork.
[[noreturn]] void exec_child(ChildPlan& p) {
  // "0" is the writer itself, whatever pid namespace it is in.
  for (int fd : *p.cgroup_procs)
    if (::write(fd, "0", 1) != 1) child_fail(p.report, Stage::Setup);
  // Ignored signals stay ignored across exec; a child must not inherit, say,
  // the parent's SIG_IGN for SIGPIPE. Blocked signals likewise.
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) ::sigaction(sig, &dfl, nullptr);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  if (p.new_group && ::setpgid(0, 0) < 0) child_fail(p.report, Stage::Setup);
  if (p.death_signal != 0) {
    if (::prctl(PR_SET_PDEATHSIG, p.death_signal) < 0) child_fail(p.report, Stage::Setup);
    // The parent may have died before the prctl took effect. (Not raise():
    // after a raw clone3 the C library's idea of the thread is the parent's.)
    if (::getppid() != p.parent) ::kill(::getpid(), p.death_signal);
  }
  // First lift sources off 0..2, so that installing one stream cannot
  // overwrite the source of another (stdout=2, stderr=1 swaps them).
  for (int& src : p.sources)
    if (src >= 0 && src <= STDERR_FILENO && (src = ::fcntl(src, F_DUPFD_CLOEXEC, 3)) < 0)
      child_fail(p.report, Stage::Setup);
  for (int target = 0; target < 3; ++target)
    if (p.sources[target] >= 0 && ::dup2(p.sources[target], target) < 0)
      child_fail(p.report, Stage::Setup);
  // Extra descriptors go to 3, 4 ...: first lift every source, and the
  // report pipe, above that range, so installing one overwrites nothing needed.
  const int above = 3 + static_cast<int>(p.extra_count);
  if (p.extra_count > 0 && p.report < above) {
    int lifted = ::fcntl(p.report, F_DUPFD_CLOEXEC, above);
    if (lifted < 0) child_fail(p.report, Stage::Setup);
    p.report = lifted;
  }
  for (size_t i = 0; i < p.extra_count; ++i)
    if (p.extra_fds[i] < above &&
        (p.extra_fds[i] = ::fcntl(p.extra_fds[i], F_DUPFD_CLOEXEC, above)) < 0)
      child_fail(p.report, Stage::Setup);
  for (size_t i = 0; i < p.extra_count; ++i)
    if (::dup2(p.extra_fds[i], 3 + static_cast<int>(i)) < 0) child_fail(p.report, Stage::Setup);
  // Best effort (needs Linux 5.11): descriptors leaked without O_CLOEXEC by a
  // library or another thread's fork window must not reach the program.
  ::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
  for (int fd : *p.pass_fds)
    if (::fcntl(fd, F_SETFD, 0) < 0) child_fail(p.report, Stage::Setup);
  for (int fd = 3; fd < above; ++fd)
    if (::fcntl(fd, F_SETFD, 0) < 0) child_fail(p.report, Stage::Setup);
  if (p.cwd && ::chdir(p.cwd) < 0) child_fail(p.report, Stage::Chdir);
  ::execvpe(p.program, p.argv, p.envp);
  child_fail(p.report, Stage::Exec);
}

}  // namespace

ExitStatus ExitStatus::from_siginfo(const siginfo_t& info) {
  ExitStatus s;
  if (info.si_code == CLD_EXITED) {
    s.exited = true;
    s.code = info.si_status;
  } else {
    s.signal = info.si_status;
  }
  return s;
}

std::string ExitStatus::to_string() const {
  if (exited) return fmt::format("exited with status {}", code);
  return fmt::format("killed by signal {} ({})", signal, strsignal(signal));
}

Subprocess Subprocess::spawn(const std::vector<std::string>& argv, const SpawnOptions& options) {
  if (argv.empty() || argv[0].empty()) fail("cannot run an empty command");
  // Everything the child needs is built here: it must not allocate.
  std::vector<std::string> arg_store = argv;
  std::vector<char*> args = c_strings(arg_store);
  std::vector<std::string> env_store = child_env(options.extra_env, options.clean_env);
  std::string program = options.program.empty() ? argv[0] : options.program;
  std::vector<char*> env = c_strings(env_store);

  UniqueFd devnull(check_sys(::open("/dev/null", O_RDWR | O_CLOEXEC), "open /dev/null"));
  Stream in = plan_stream(options.in, STDIN_FILENO, devnull.get());
  Stream out = plan_stream(options.out, STDOUT_FILENO, devnull.get());
  Stream err = plan_stream(options.err, STDERR_FILENO, devnull.get());
  auto [report_r, report_w] = make_pipe();
  std::vector<int> extra_fds = options.extra_fds;

  ChildPlan plan{program.c_str(),
                 args.data(),
                 env.data(),
                 options.cwd.empty() ? nullptr : options.cwd.c_str(),
                 {in.source, out.source, err.source},
                 options.new_process_group,
                 options.parent_death_signal,
                 (options.namespaces & CLONE_NEWPID) ? 0 : ::getpid(),
                 &options.pass_fds,
                 extra_fds.data(),
                 extra_fds.size(),
                 report_w.get(),
                 &options.join_cgroup_procs};
  pid_t pid;
  if (options.namespaces == 0 && options.cgroup_fd < 0) {
    pid = ::fork();
  } else {
    // fork() semantics (no new stack, SIGCHLD at exit) plus the namespaces
    // and the cgroup, which fork() cannot give.
    clone_args args{};
    args.flags = options.namespaces | (options.cgroup_fd >= 0 ? CLONE_INTO_CGROUP : 0);
    args.exit_signal = SIGCHLD;
    args.cgroup = options.cgroup_fd >= 0 ? static_cast<uint64_t>(options.cgroup_fd) : 0;
    pid = static_cast<pid_t>(::syscall(SYS_clone3, &args, sizeof args));
  }
  if (pid < 0) throw_errno("fork for " + argv[0]);
  if (pid == 0) exec_child(plan);

  Subprocess p;
  p.pid_ = pid;
  p.group_ = options.new_process_group;
  report_w.reset();
  ChildFailure failure{};
  ssize_t n;
  do n = ::read(report_r.get(), &failure, sizeof failure);
  while (n < 0 && errno == EINTR);
  if (n == sizeof failure) {
    p.wait();
    switch (failure.stage) {
      case Stage::Exec:
        throw_errno("cannot execute " + program, failure.err);
      case Stage::Chdir:
        throw_errno(fmt::format("cannot start {}: chdir to {}", argv[0], options.cwd.string()),
                    failure.err);
      case Stage::Setup:
        throw_errno(fmt::format("cannot start {}: setting up its process", argv[0]), failure.err);
    }
  }
  p.in_ = std::move(in.parent_end);
  p.out_ = std::move(out.parent_end);
  p.err_ = std::move(err.parent_end);
  return p;
}

Subprocess::Subprocess(Subprocess&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)),
      group_(other.group_),
      status_(other.status_),
      in_(std::move(other.in_)),
      out_(std::move(other.out_)),
      err_(std::move(other.err_)) {}

Subprocess& Subprocess::operator=(Subprocess&& other) noexcept {
  if (this != &other) {
    kill_and_reap();
    pid_ = std::exchange(other.pid_, -1);
    group_ = other.group_;
    status_ = other.status_;
    in_ = std::move(other.in_);
    out_ = std::move(other.out_);
    err_ = std::move(other.err_);
  }
  return *this;
}

Subprocess::~Subprocess() { kill_and_reap(); }

void Subprocess::kill_and_reap() noexcept {
  if (pid_ <= 0 || status_) return;
  kill(SIGKILL);
  try {
    wait();
  } catch (const Error&) {
    // Reaped elsewhere (SIGCHLD ignored, a stray waitpid(-1)): nothing left to do.
  }
}

void Subprocess::kill(int sig) const {
  // Only before reaping: afterwards the pid (and group id) may be reused.
  if (pid_ > 0 && !status_) ::kill(group_ ? -pid_ : pid_, sig);
}

ExitStatus Subprocess::wait() {
  if (status_) return *status_;
  // Moved from: waitpid(-1) would reap some other child of the process.
  if (pid_ <= 0) fail("wait for a process that was moved away");
  int raw = 0;
  while (waitpid(pid_, &raw, 0) < 0)
    if (errno != EINTR) throw_errno(fmt::format("waitpid {}", pid_));
  status_ = decode(raw);
  return *status_;
}

std::optional<ExitStatus> Subprocess::wait_for(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  // A pidfd becomes readable when the child exits, so waiting sleeps in poll
  // instead of waking to check; without one (kernel < 5.3) poll in steps.
  UniqueFd pidfd;
  for (;;) {
    if (status_) return status_;
    if (pid_ <= 0) fail("wait for a process that was moved away");
    int raw = 0;
    pid_t r = waitpid(pid_, &raw, WNOHANG);
    if (r == pid_) return status_ = decode(raw);
    if (r < 0 && errno != EINTR) throw_errno(fmt::format("waitpid {}", pid_));
    int left = ms_until(deadline);
    if (left == 0) return std::nullopt;
    if (!pidfd) pidfd.reset(open_pidfd(pid_));
    if (pidfd) {
      pollfd pfd{pidfd.get(), POLLIN, 0};
      ::poll(&pfd, 1, left);
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(std::min(left, 5)));
    }
  }
}

RunResult run_capture(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
                      const SpawnOptions& options) {
  const auto deadline = Clock::now() + timeout;
  SpawnOptions opts = options;
  opts.out = opts.err = Stdio::pipe();
  Subprocess p = Subprocess::spawn(argv, opts);
  RunResult result;
  // Both pipes are read as data arrives: reading one to its end first would
  // deadlock against a child blocked on writing to the other, full one.
  pollfd fds[2] = {{p.stdout_fd(), POLLIN, 0}, {p.stderr_fd(), POLLIN, 0}};
  std::string* sinks[2] = {&result.out, &result.err};
  int open = 2;
  while (open > 0) {
    int left = ms_until(deadline);
    if (left == 0) break;
    int n = ::poll(fds, 2, left);
    if (n < 0 && errno == EINTR) continue;
    check_sys(n, "poll");
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      char buf[8192];
      ssize_t r = ::read(fds[i].fd, buf, sizeof buf);
      if (r > 0) {
        sinks[i]->append(buf, static_cast<size_t>(r));
      } else if (r == 0 || errno != EINTR) {
        fds[i].fd = -1;
        --open;
      }
    }
  }
  std::optional<ExitStatus> status = p.wait_for(std::chrono::milliseconds(ms_until(deadline)));
  if (!status) {
    result.timed_out = true;
    p.kill(SIGKILL);
    status = p.wait();
  }
  result.status = *status;
  return result;
}

}  // namespace vmrt
