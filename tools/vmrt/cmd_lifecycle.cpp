// vmrt start, kill, pause, resume, delete: the state changes of a created
// container.

#include <signal.h>
#include <spdlog/spdlog.h>

#include <filesystem>
#include <thread>

#include "common/error.h"
#include "sandbox/vmm_cgroup.h"
#include "tools/vmrt/commands.h"
#include "tools/vmrt/container_access.h"
#include "tools/vmrt/hooks.h"
#include "tools/vmrt/signal_names.h"

namespace vmrt::cli {
namespace {

using namespace std::chrono_literals;

// How long delete waits for a killed keeper and VMM to be gone.
constexpr auto kReapWait = 10s;

// Ends the keeper and the VMM for good: SIGKILL to both (the VMM would die
// with its keeper anyway), then waits until neither exists.
void kill_sandbox(const ContainerRecord& r) {
  for (const ProcessId* p : {&r.keeper, &r.vmm})
    if (p->pid > 0 && p->alive()) ::kill(p->pid, SIGKILL);
  auto deadline = std::chrono::steady_clock::now() + kReapWait;
  while ((r.keeper.pid > 0 && r.keeper.alive()) || (r.vmm.pid > 0 && r.vmm.alive())) {
    if (std::chrono::steady_clock::now() > deadline)
      fail("container {}: its keeper (pid {}) or VMM (pid {}) survived SIGKILL for {} s", r.id,
           r.keeper.pid, r.vmm.pid, kReapWait.count());
    std::this_thread::sleep_for(10ms);
  }
}

// The container's config.json as it is now, for its hooks; a bundle gone
// meanwhile has none to run.
oci::Spec bundle_spec(const ContainerRecord& r) {
  try {
    return oci::load_spec(r.bundle, oci::Purpose::Inspect);
  } catch (const Error& e) {
    spdlog::warn("container {}: hooks not run: {}", r.id, e.what());
    return {};
  }
}

}  // namespace

int cmd_start(const Globals& g, const std::string& id) {
  LockedContainer c = g.store().lock(id);
  ContainerRecord r = c.read();
  require_status(r, "start", {Status::Created});
  ContainerAgent(r).calls.start(id);
  r.status = Status::Running;
  c.write(r);
  run_hooks(bundle_spec(r).hooks.poststart, "poststart", oci_state_json(r), HookFailure::Warn);
  return 0;
}

int cmd_kill(const Globals& g, const KillArgs& a) {
  int sig = parse_signal(a.signal);
  ContainerRecord r = g.store().read(a.id);
  require_status(r, "kill", {Status::Created, Status::Running, Status::Paused});
  ContainerAgent(r).calls.signal({a.id, ""}, sig, a.all);
  return 0;
}

namespace {

// pause and resume: one status to another, the record locked throughout.
int set_paused(const Globals& g, const std::string& id, bool pause) {
  LockedContainer c = g.store().lock(id);
  ContainerRecord r = c.read();
  require_status(r, pause ? "pause" : "resume", {pause ? Status::Running : Status::Paused});
  ContainerAgent vm(r);
  pause ? vm.calls.pause(id) : vm.calls.resume(id);
  r.status = pause ? Status::Paused : Status::Running;
  c.write(r);
  return 0;
}

}  // namespace

int cmd_pause(const Globals& g, const std::string& id) { return set_paused(g, id, true); }

int cmd_resume(const Globals& g, const std::string& id) { return set_paused(g, id, false); }

int cmd_delete(const Globals& g, const std::string& id, bool force) {
  StateStore store = g.store();
  std::optional<LockedContainer> c;
  try {
    c.emplace(store.lock(id));
  } catch (const Error&) {
    check_container_id(id);
    // runc: deleting what is not there is fine when forced.
    if (force && !std::filesystem::exists(store.root() / id)) return 0;
    throw;
  }
  ContainerRecord r;
  try {
    r = c->read();
  } catch (const Error& e) {
    // A create that died before its first record: nothing runs, remove it.
    spdlog::warn("container {}: {}; removing its state", id, e.what());
    std::move(*c).remove();
    return 0;
  }
  Status s = effective_status(r);
  if ((s == Status::Running || s == Status::Paused) && !force)
    fail("cannot delete container {} that is not stopped: {} (use --force)", id, status_name(s));
  kill_sandbox(r);
  sandbox::remove_left_cgroup(c->dir());
  std::move(*c).remove();
  r.status = Status::Stopped;
  run_hooks(bundle_spec(r).hooks.poststop, "poststop", oci_state_json(r), HookFailure::Warn);
  return 0;
}

}  // namespace vmrt::cli
