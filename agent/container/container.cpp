#include "agent/container/container.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/inotify.h>
#include <sys/stat.h>

#include <optional>
#include <regex>

#include "agent/container/cgroups.h"
#include "agent/container/children.h"
#include "agent/container/init.h"
#include "agent/container/plan.h"
#include "common/error.h"
#include "common/log.h"
#include "common/tempdir.h"

namespace vmrt::agent {

namespace fs = std::filesystem;

struct Container::Impl {
  ContainerPlan plan;
  fs::path state;  // STATE_DIR/ID, ours once created
  std::optional<Cgroup> cgroup;
  std::optional<SyncChannel> channel;  // until start
  bool started = false;
  bool destroyed = false;
  // exec'd processes: their exit slots (shared with the caller's handles) and
  // a pidfd of ours, to reap them when the caller does not.
  std::vector<std::pair<std::weak_ptr<ExitSlot>, UniqueFd>> execs;

  void reap_execs() {
    std::erase_if(execs, [](auto& e) {
      std::shared_ptr<ExitSlot> slot = e.first.lock();
      return !slot || collect(*slot, e.second.get());
    });
  }
};

namespace {

// Reads the child's reports until it is ready (init) or has exec'd: a
// descriptor sent along is the pty master; a failure is thrown with the
// plan's names after the child is reaped.
void await_child(SyncChannel& channel, Process& process, const ContainerPlan* container,
                 const ProcessPlan& plan, bool until_ready, const std::string& who) {
  for (;;) {
    UniqueFd fd;
    std::optional<ChildReport> r = channel.receive(&fd);
    if (!r) {
      if (!until_ready) return;
      ExitStatus status = process.wait();
      fail("{}: init {} during setup", who, status.to_string());
    }
    if (fd) {
      process.stdio().terminal = std::move(fd);
      continue;
    }
    if (r->step == Step::Ready && until_ready) return;
    process.signal(SIGKILL);
    process.wait();
    fail("{}: {}", who, describe(container, plan, *r));
  }
}

}  // namespace

Container::Container(ContainerOptions options)
    : options_(std::move(options)), impl_(std::make_unique<Impl>()) {}

Container::~Container() {
  try {
    destroy();
  } catch (const Error& e) {
    spdlog::error("container {}: {}", options_.id, e.what());
  }
}

std::unique_ptr<Container> Container::create(ContainerOptions options) {
  static const std::regex id_re("[A-Za-z0-9_.-]+");
  if (!std::regex_match(options.id, id_re) || options.id == "." || options.id == "..")
    fail("\"{}\" is not a container id ([A-Za-z0-9_.-]+)", options.id);
  std::unique_ptr<Container> c(new Container(std::move(options)));
  const ContainerOptions& o = c->options_;
  Impl& impl = *c->impl_;
  std::string who = "container " + o.id;

  fs::path state = o.state_dir / o.id;
  impl.plan = plan_container(o.spec, {o.bundle, o.rootfs, o.overlay_rootfs, state, o.id});
  ContainerPlan& plan = impl.plan;

  // From here on everything made is undone by destroy(), via the destructor.
  fs::create_directories(o.state_dir);
  if (::mkdir(state.c_str(), 0700) < 0)
    throw_errno(fmt::format("{}: cannot create its state directory {}", who, state.string()));
  impl.state = state;
  if (plan.mounts.overlay)
    for (const char* d : {"rw", "rootfs"}) fs::create_directory(state / d);

  impl.cgroup = Cgroup::create(o.cgroup_root, plan.cgroup, controllers_of(plan.resources));
  c->cgroup_ = impl.cgroup->path();
  impl.cgroup->apply(plan.resources);

  std::vector<UniqueFd> ns_fds = open_namespaces(plan.namespaces);
  UniqueFd pidns;
  if (!plan.namespaces.pid_path.empty()) {
    pidns.reset(::open(plan.namespaces.pid_path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!pidns) throw_errno("cannot open the pid namespace " + plan.namespaces.pid_path);
  }
  PreparedStdio stdio = prepare_stdio(o.stdio, plan.process.terminal);
  ExecArgs exec(plan.process);
  impl.channel.emplace();
  InitContext ctx{&plan, &ns_fds, &stdio, &exec, impl.channel->child_end()};
  Cloned cloned;
  {
    PidNamespaceForChildren in_pidns(pidns.get());
    cloned = clone_child(plan.namespaces.clone_flags, impl.cgroup->fd(), container_init, &ctx);
  }
  c->init_ = make_process(cloned.pid, std::move(cloned.pidfd), cloned.slot);
  c->init_->stdio() = std::move(stdio.parent);
  impl.channel->close_child_end();
  await_child(*impl.channel, *c->init_, &plan, plan.process, true, who);

  fs::path events = c->cgroup_ / "memory.events";
  if (::access(events.c_str(), F_OK) == 0) {
    c->oom_watch_.reset(check_sys(::inotify_init1(IN_CLOEXEC | IN_NONBLOCK), "inotify_init1"));
    check_sys(::inotify_add_watch(c->oom_watch_.get(), events.c_str(), IN_MODIFY),
              "watching " + events.string());
  }
  spdlog::debug("{}: created, init pid {}", who, c->init_->pid());
  return c;
}

std::unique_ptr<Process> Container::make_process(pid_t pid, UniqueFd pidfd,
                                                 std::shared_ptr<ExitSlot> exit) {
  std::unique_ptr<Process> p(new Process());
  p->pid_ = pid;
  p->pidfd_ = std::move(pidfd);
  p->exit_ = std::move(exit);
  return p;
}

ExitStatus Container::wait() {
  for (;;) {
    impl_->reap_execs();
    if (auto s = init_->try_wait()) return *s;
    pollfd p{init_->pidfd(), POLLIN, 0};
    ::poll(&p, 1, impl_->execs.empty() ? -1 : 50);
  }
}

std::optional<ExitStatus> Container::try_wait() {
  impl_->reap_execs();
  return init_->try_wait();
}

Container::State Container::state() {
  if (!init_ || impl_->destroyed || try_wait()) return State::Stopped;
  if (!impl_->started) return State::Created;
  return impl_->cgroup && impl_->cgroup->frozen() ? State::Paused : State::Running;
}

void Container::start() {
  if (impl_->started) fail("container {} was started already", id());
  if (!impl_->channel || state() != State::Created)
    fail("container {} is not in the created state", id());
  impl_->channel->send_start();
  impl_->started = true;
  await_child(*impl_->channel, *init_, &impl_->plan, impl_->plan.process, false,
              "container " + id());
  impl_->channel.reset();
}

void Container::signal(int sig, bool all) {
  if (!all || !impl_->cgroup) return init_->signal(sig);
  if (sig == SIGKILL) return impl_->cgroup->kill();
  for (pid_t pid : impl_->cgroup->procs())
    if (::kill(pid, sig) < 0 && errno != ESRCH)
      throw_errno(fmt::format("container {}: cannot send signal {} to {}", id(), sig, pid));
}

std::unique_ptr<Process> Container::exec(const oci::Process& process, const StdioConfig& config) {
  std::string who = fmt::format("container {}: exec", id());
  if (state() != State::Running) fail("{}: the container is not running", who);
  ProcessPlan plan = plan_process(process, impl_->plan.seccomp);
  PreparedStdio stdio = prepare_stdio(config, plan.terminal);
  ExecArgs args(plan);
  SyncChannel channel;
  int flags = CLONE_NEWNS;
  for (int ns : {CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWNET, CLONE_NEWCGROUP})
    if (impl_->plan.namespaces.is_private(ns)) flags |= ns;
  // The init is alive and not reaped (state() said Running): its pid is its own.
  UniqueFd root(
      ::open(fmt::format("/proc/{}/root", init_->pid()).c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root) throw_errno(who + ": cannot open the container's root");
  ExecContext ctx{&plan, init_->pidfd(), root.get(), flags, &stdio, &args, channel.child_end()};
  Cloned cloned;
  {
    PidNamespaceForChildren in_pidns(
        impl_->plan.namespaces.is_private(CLONE_NEWPID) ? init_->pidfd() : -1);
    cloned = clone_child(0, impl_->cgroup->fd(), exec_child, &ctx);
  }
  std::unique_ptr<Process> p = make_process(cloned.pid, std::move(cloned.pidfd), cloned.slot);
  p->stdio() = std::move(stdio.parent);
  channel.close_child_end();
  await_child(channel, *p, nullptr, plan, false, who);
  impl_->execs.emplace_back(p->exit_, UniqueFd(::fcntl(p->pidfd(), F_DUPFD_CLOEXEC, 0)));
  return p;
}

std::unique_ptr<Process> start_outside_containers(const oci::Process& process,
                                                  const StdioConfig& config) {
  const char* who = "outside the containers";
  ProcessPlan plan = plan_process(process, nullptr);
  plan.user = UserPlan{};  // root: the terminal is root's too
  PreparedStdio stdio = prepare_stdio(config, plan.terminal);
  ExecArgs args(plan);
  SyncChannel channel;
  OutsideContext ctx{&plan, &stdio, &args, channel.child_end()};
  Cloned cloned = clone_child(0, -1, outside_child, &ctx);
  std::unique_ptr<Process> p(new Process());
  p->pid_ = cloned.pid;
  p->pidfd_ = std::move(cloned.pidfd);
  p->exit_ = cloned.slot;
  p->stdio() = std::move(stdio.parent);
  channel.close_child_end();
  await_child(channel, *p, nullptr, plan, false, who);
  return p;
}

void Container::pause() {
  if (state() != State::Running) fail("container {} is not running", id());
  impl_->cgroup->freeze(true);
}

void Container::resume() {
  if (state() != State::Paused) fail("container {} is not paused", id());
  impl_->cgroup->freeze(false);
}

Stats Container::stats() {
  if (!impl_->cgroup) fail("container {} has no cgroup", id());
  return impl_->cgroup->stats();
}

void Container::update(const oci::Resources& resources) {
  if (!impl_->cgroup) fail("container {} has no cgroup", id());
  std::vector<CgroupWrite> writes = plan_resources(resources);
  for (const std::string& c : controllers_of(writes))
    if (::access((cgroup_ / (c + ".stat")).c_str(), F_OK) < 0 &&
        ::access((cgroup_ / (c + ".max")).c_str(), F_OK) < 0 &&
        ::access((cgroup_ / (c + ".current")).c_str(), F_OK) < 0 &&
        ::access((cgroup_ / (c + ".weight")).c_str(), F_OK) < 0 &&
        ::access((cgroup_ / (c + ".cpus")).c_str(), F_OK) < 0)
      fail("container {}: the {} controller is not enabled in {}", id(), c, cgroup_.string());
  impl_->cgroup->apply(writes);
  options_.spec.linux.resources = resources;
}

std::vector<pid_t> Container::processes() {
  if (!impl_->cgroup) return {};
  return impl_->cgroup->procs();
}

uint64_t Container::oom_kill_count() { return impl_->cgroup ? impl_->cgroup->oom_kills() : 0; }

void Container::destroy() {
  if (impl_->destroyed) return;
  impl_->destroyed = true;
  impl_->channel.reset();  // an init still waiting for start exits on its own
  std::optional<Error> first;
  auto attempt = [&](auto&& fn) {
    try {
      fn();
    } catch (const Error& e) {
      if (!first) first = e;
    }
  };
  // Removing the cgroup kills everything in it and waits until it is empty.
  attempt([&] {
    if (impl_->cgroup) {
      impl_->cgroup->remove();
      impl_->cgroup.reset();
    }
  });
  attempt([&] {
    if (init_) {
      init_->signal(SIGKILL);
      wait();
    }
  });
  oom_watch_.reset();
  attempt([&] {
    if (!impl_->state.empty()) remove_tree(impl_->state);
  });
  if (first)
    throw Error(fmt::format("container {}: destroy: {}", id(), first->what()), first->code());
}

}  // namespace vmrt::agent
