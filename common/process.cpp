#include "common/process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <thread>

#include "common/error.h"

extern char** environ;

namespace vmrt {

namespace {

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

}  // namespace

std::string ExitStatus::describe() const {
  if (exited) return fmt::format("exited with status {}", code);
  return fmt::format("killed by signal {} ({})", signal, strsignal(signal));
}

Subprocess Subprocess::spawn(const std::vector<std::string>& argv, const SpawnOptions& options) {
  if (argv.empty()) fail("cannot run an empty command");
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::vector<std::string> env_store;
  for (char** e = environ; *e; ++e) env_store.emplace_back(*e);
  env_store.insert(env_store.end(), options.extra_env.begin(), options.extra_env.end());
  std::vector<char*> env;
  for (std::string& e : env_store) env.push_back(e.data());
  env.push_back(nullptr);

  auto [err_r, err_w] = make_pipe();  // carries the exec errno back; closed by a successful exec
  UniqueFd out_r, out_w, errout_r, errout_w;
  if (options.capture_output) {
    std::tie(out_r, out_w) = make_pipe();
    std::tie(errout_r, errout_w) = make_pipe();
  }
  pid_t pid = fork();
  if (pid < 0) throw_errno("fork");
  if (pid == 0) {
    // Only async-signal-safe calls from here on.
    if (options.capture_output) {
      dup2(out_w.get(), STDOUT_FILENO);
      dup2(errout_w.get(), STDERR_FILENO);
    }
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    execvpe(args[0], args.data(), env.data());
    int e = errno;
    [[maybe_unused]] ssize_t n = write(err_w.get(), &e, sizeof e);
    _exit(127);
  }
  Subprocess p;
  p.pid_ = pid;
  err_w.reset();
  int exec_errno = 0;
  ssize_t n;
  do n = read(err_r.get(), &exec_errno, sizeof exec_errno);
  while (n < 0 && errno == EINTR);
  if (n == sizeof exec_errno) {
    p.wait();
    throw_errno("cannot execute " + argv[0], exec_errno);
  }
  p.out_ = std::move(out_r);
  p.err_ = std::move(errout_r);
  return p;
}

Subprocess::Subprocess(Subprocess&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)),
      status_(other.status_),
      out_(std::move(other.out_)),
      err_(std::move(other.err_)) {}

Subprocess::~Subprocess() {
  if (pid_ > 0 && !status_) {
    ::kill(pid_, SIGKILL);
    wait();
  }
}

void Subprocess::kill(int sig) const {
  if (pid_ > 0 && !status_) ::kill(pid_, sig);
}

ExitStatus Subprocess::wait() {
  if (status_) return *status_;
  int raw = 0;
  while (waitpid(pid_, &raw, 0) < 0)
    if (errno != EINTR) throw_errno("waitpid");
  status_ = decode(raw);
  return *status_;
}

std::optional<ExitStatus> Subprocess::wait_for(std::chrono::milliseconds timeout) {
  if (status_) return status_;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int raw = 0;
    pid_t r = waitpid(pid_, &raw, WNOHANG);
    if (r == pid_) return status_ = decode(raw);
    if (r < 0 && errno != EINTR) throw_errno("waitpid");
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

RunResult run_capture(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
                      const SpawnOptions& options) {
  SpawnOptions opts = options;
  opts.capture_output = true;
  Subprocess p = Subprocess::spawn(argv, opts);
  RunResult result;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  pollfd fds[2] = {{p.stdout_fd(), POLLIN, 0}, {p.stderr_fd(), POLLIN, 0}};
  std::string* sinks[2] = {&result.out, &result.err};
  int open = 2;
  while (open > 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      result.timed_out = true;
      p.kill(SIGKILL);
      break;
    }
    int n = poll(fds, 2, static_cast<int>(left.count()));
    if (n < 0 && errno == EINTR) continue;
    check_sys(n, "poll");
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      char buf[4096];
      ssize_t r = read(fds[i].fd, buf, sizeof buf);
      if (r > 0) {
        sinks[i]->append(buf, static_cast<size_t>(r));
      } else if (r == 0 || errno != EINTR) {
        fds[i].fd = -1;
        --open;
      }
    }
  }
  result.status = p.wait();
  return result;
}

}  // namespace vmrt
