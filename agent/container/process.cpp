#include "agent/container/process.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/error.h"
#include "common/unix_socket.h"

namespace vmrt::agent {

namespace {

constexpr const char* kDefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

std::pair<UniqueFd, UniqueFd> make_pipe() {
  int fds[2];
  check_sys(::pipe2(fds, O_CLOEXEC), "pipe2");
  return {UniqueFd(fds[0]), UniqueFd(fds[1])};
}

}  // namespace

ProcessPlan plan_process(const oci::Process& p, std::shared_ptr<const SeccompPlan> seccomp,
                         const std::string& where) {
  ProcessPlan plan;
  if (p.args.empty() || p.args[0].empty()) fail("{}.args: must name the program to run", where);
  plan.args = p.args;
  std::string path = kDefaultPath;
  for (size_t i = 0; i < p.env.size(); ++i) {
    const std::string& e = p.env[i];
    size_t eq = e.find('=');
    if (eq == std::string::npos || eq == 0)
      fail("{}.env[{}]: \"{}\" is not KEY=VALUE", where, i, e);
    if (e.compare(0, eq, "PATH") == 0) path = e.substr(eq + 1);
    plan.env.push_back(e);
  }
  const std::string& prog = p.args[0];
  if (prog.find('/') != std::string::npos) {
    plan.candidates.push_back(prog);
  } else {
    for (size_t pos = 0;;) {
      size_t colon = path.find(':', pos);
      std::string dir = path.substr(pos, colon == std::string::npos ? colon : colon - pos);
      plan.candidates.push_back((dir.empty() ? "." : dir) + "/" + prog);
      if (colon == std::string::npos) break;
      pos = colon + 1;
    }
  }
  plan.cwd = p.cwd.empty() ? "/" : p.cwd;
  if (plan.cwd[0] != '/') fail("{}.cwd: must be an absolute path, got \"{}\"", where, p.cwd);
  plan.terminal = p.terminal;
  if (p.console_size) plan.console_size = *p.console_size;
  plan.user = plan_user(p);
  plan.capabilities = plan_capabilities(p.capabilities);
  plan.rlimits = plan_rlimits(p.rlimits);
  if (p.oom_score_adj) {
    if (*p.oom_score_adj < -1000 || *p.oom_score_adj > 1000)
      fail("{}.oomScoreAdj: {} is outside -1000..1000", where, *p.oom_score_adj);
    plan.oom_score_adj = std::to_string(*p.oom_score_adj);
  }
  plan.seccomp = std::move(seccomp);
  return plan;
}

PreparedStdio prepare_stdio(const StdioConfig& config, bool plan_terminal) {
  PreparedStdio s;
  s.kind = config.kind;
  if (plan_terminal != (config.kind == StdioConfig::Kind::Terminal))
    fail("process.terminal is {} but the caller asked for {}", plan_terminal,
         plan_terminal ? "no terminal" : "a terminal");
  switch (config.kind) {
    case StdioConfig::Kind::Terminal:
      break;
    case StdioConfig::Kind::Pipes: {
      auto [in_r, in_w] = make_pipe();
      auto [out_r, out_w] = make_pipe();
      auto [err_r, err_w] = make_pipe();
      s.own[0] = std::move(in_r);
      s.own[1] = std::move(out_w);
      s.own[2] = std::move(err_w);
      s.parent.in = std::move(in_w);
      s.parent.out = std::move(out_r);
      s.parent.err = std::move(err_r);
      for (int i = 0; i < 3; ++i) s.source[i] = s.own[i].get();
      break;
    }
    case StdioConfig::Kind::Null:
    case StdioConfig::Kind::Fds: {
      int given[3] = {config.in, config.out, config.err};
      for (int i = 0; i < 3; ++i) {
        if (config.kind == StdioConfig::Kind::Fds && given[i] >= 0) {
          s.source[i] = given[i];
        } else {
          s.own[i].reset(check_sys(::open("/dev/null", O_RDWR | O_CLOEXEC), "open /dev/null"));
          s.source[i] = s.own[i].get();
        }
      }
      break;
    }
  }
  return s;
}

ExecArgs::ExecArgs(ProcessPlan& plan) {
  for (std::string& a : plan.args) argv.push_back(a.data());
  argv.push_back(nullptr);
  for (std::string& e : plan.env) envp.push_back(e.data());
  envp.push_back(nullptr);
}

SyncChannel::SyncChannel() {
  int fds[2];
  check_sys(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds), "socketpair");
  parent_.reset(fds[0]);
  child_.reset(fds[1]);
}

std::optional<ChildReport> SyncChannel::receive(UniqueFd* fd) {
  ChildReport r;
  size_t n;
  try {
    n = receive_with_fd(parent_.get(), &r, sizeof r, fd);
  } catch (const Error& e) {
    fail("reading the container's sync socket: {}", e.what());
  }
  if (n == 0) return std::nullopt;
  if (n != sizeof r) fail("short report ({} bytes) on the container's sync socket", n);
  return r;
}

void SyncChannel::send_start() {
  char go = 'G';
  if (::send(parent_.get(), &go, 1, MSG_NOSIGNAL) != 1)
    throw_errno("releasing the container's init");
}

void set_oom_score_adj(const Child& child, const ProcessPlan& plan) {
  if (plan.oom_score_adj.empty()) return;
  int fd = ::open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
  if (fd < 0 || ::write(fd, plan.oom_score_adj.data(), plan.oom_score_adj.size()) < 0)
    child.fail(Step::OomScoreAdj);
  ::close(fd);
}

void open_terminal(const Child& child, const ProcessPlan& plan, int* slave) {
  int master = ::open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0) child.fail(Step::Terminal);
  int unlock = 0;
  if (::ioctl(master, TIOCSPTLCK, &unlock) < 0) child.fail(Step::Terminal);
  *slave = ::ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (*slave < 0) child.fail(Step::Terminal);
  if (plan.console_size.height || plan.console_size.width) {
    winsize ws{};
    ws.ws_row = static_cast<unsigned short>(plan.console_size.height);
    ws.ws_col = static_cast<unsigned short>(plan.console_size.width);
    if (::ioctl(master, TIOCSWINSZ, &ws) < 0) child.fail(Step::Terminal);
  }
  // The process's user owns its terminal, as after a login.
  if (::fchown(*slave, plan.user.uid, plan.user.gid) < 0) child.fail(Step::Terminal);
  child.send_fd(master, Step::Terminal);
  ::close(master);
}

void change_dir(const Child& child, const ProcessPlan& plan) {
  if (::chdir(plan.cwd.c_str()) < 0) child.fail(Step::Cwd);
}

void install_stdio(const Child& child, const PreparedStdio& stdio, int slave) {
  if (slave >= 0) {
    if (::setsid() < 0 || ::ioctl(slave, TIOCSCTTY, 0) < 0) child.fail(Step::Terminal);
    for (int target = 0; target < 3; ++target)
      if (::dup2(slave, target) < 0) child.fail(Step::Stdio, target);
    ::close(slave);
    return;
  }
  // Lift sources off 0..2 first, so that installing one stream cannot
  // overwrite the source of another.
  int src[3];
  for (int i = 0; i < 3; ++i) {
    src[i] = stdio.source[i];
    if (src[i] >= 0 && src[i] <= 2 && (src[i] = ::fcntl(src[i], F_DUPFD_CLOEXEC, 3)) < 0)
      child.fail(Step::Stdio, i);
  }
  for (int target = 0; target < 3; ++target)
    if (src[target] >= 0 && ::dup2(src[target], target) < 0) child.fail(Step::Stdio, target);
}

void exec_process(const Child& child, const ProcessPlan& plan, const ExecArgs& args) {
  // As execvp: a candidate that is missing is skipped; a permission error is
  // remembered in case no later candidate works.
  int err = ENOENT;
  for (const std::string& path : plan.candidates) {
    ::execve(path.c_str(), args.argv.data(), args.envp.data());
    if (errno == EACCES)
      err = EACCES;
    else if (errno != ENOENT && errno != ENOTDIR)
      child.fail(Step::Exec);
  }
  child.fail_with(Step::Exec, -1, err);
}

}  // namespace vmrt::agent
