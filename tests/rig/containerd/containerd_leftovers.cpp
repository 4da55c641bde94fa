// What a test leaves behind (shims, VMMs, mounts, sockets, namespaces,
// state), and the cleanup of shims and tasks.
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cstring>

#include "common/error.h"
#include "common/fd.h"
#include "tests/rig/containerd/containerd_harness.h"
#include "tests/rig/containerd/containerd_harness_detail.h"
#include "tests/rig/support/host_state.h"

namespace vmrt::containerd_test {

using namespace std::chrono_literals;
using namespace detail;
using vmrt::test::read_text;

namespace {

// A Unix socket nobody accepts on any more (its server is gone).
bool stale_socket(const std::filesystem::path& path) {
  if (!std::filesystem::is_socket(path)) return false;
  UniqueFd s(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (!s || path.string().size() >= sizeof addr.sun_path) return false;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  return ::connect(s.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0 &&
         errno == ECONNREFUSED;
}

}  // namespace

std::vector<int> Containerd::shim_pids() const {
  std::vector<int> pids;
  for (const auto& p : shims()) pids.push_back(pid_of(p));
  return pids;
}

std::vector<std::filesystem::path> Containerd::remove_stale_shim_sockets() const {
  std::vector<std::filesystem::path> removed;
  for (const auto& s : new_shim_sockets()) {
    std::error_code ec;
    if (stale_socket(s) && std::filesystem::remove(s, ec)) removed.push_back(s);
  }
  return removed;
}

std::vector<int> Containerd::vmm_pids() const {
  std::vector<int> pids;
  for (const auto& p : vmrt::test::vmm_processes())
    if (!vmms_before_.count(p)) pids.push_back(pid_of(p));
  return pids;
}

std::vector<std::string> Containerd::shims() const {
  // Shims are started (and re-exec themselves) with -address of the
  // containerd they serve.
  std::string ours = "-address " + address().string() + " ";
  std::vector<std::string> found;
  for (const auto& p : vmrt::test::processes_named(""))
    if (p.find("containerd-shim") != std::string::npos && p.find(ours) != std::string::npos)
      found.push_back(p);
  return found;
}

std::vector<std::string> Containerd::new_vmms() const {
  std::vector<std::string> found;
  for (const auto& p : vmrt::test::processes_named("/vmrt-vmm"))
    if (!vmms_before_.count(p)) found.push_back(p);
  return found;
}

std::vector<std::filesystem::path> Containerd::new_shim_sockets() const {
  std::vector<std::filesystem::path> found;
  for (const auto& s : directory_entries(kShimSocketDir))
    if (!sockets_before_.count(s)) found.push_back(s);
  return found;
}

std::vector<std::string> Containerd::leftovers() const {
  return vmrt::test::settled([this] {
    std::vector<std::string> left;
    for (const auto& p : shims()) left.push_back("shim: " + p);
    for (const auto& p : new_vmms()) left.push_back("vmm: " + p);
    for (const auto& m : vmrt::test::mounts_under(dir())) left.push_back("mount: " + m);
    for (const auto& c : vmrt::test::vmm_cgroups()) left.push_back("cgroup: " + c);
    for (const auto& s : new_shim_sockets()) left.push_back("shim socket: " + s.string());
    // The CRI plugin's pod network namespaces (and with them CNI's veth
    // and vmrt's tap) go when the pod is removed.
    for (const auto& ns : directory_entries("/run/netns"))
      if (!netns_before_.count(ns)) left.push_back("network namespace: " + ns.string());
    for (const auto& pod : directory_entries(shim_root()))
      left.push_back("vmrt shim state: " + pod.string());
    // A task's bundle lives until the task is deleted.
    for (const auto& ns : directory_entries(state_dir() / "io.containerd.runtime.v2.task"))
      for (const auto& bundle : directory_entries(ns))
        left.push_back("task bundle: " + bundle.string());
    return left;
  });
}

void Containerd::delete_remaining_tasks() const {
  RunResult namespaces = ctr({"namespaces", "ls", "-q"}, "", 30s);
  for (const auto& ns : lines_of(namespaces.out)) {
    auto in_ns = [&](const std::vector<std::string>& args) {
      return run_capture(ctr_argv_in(ns, args), 60s);
    };
    for (const auto& id : lines_of(in_ns({"task", "ls", "-q"}).out))
      in_ns({"task", "delete", "--force", id});
  }
}

void Containerd::kill_shims() const {
  for (const auto& shim : shims()) {
    int pid = pid_of(shim);
    // Collected first: once the shim is gone its children move to init.
    std::vector<int> below = vmrt::test::descendants(pid);
    ::kill(pid, SIGKILL);
    for (int child : below) ::kill(child, SIGKILL);
  }
  vmrt::test::settled([this] { return shims(); });
}

}  // namespace vmrt::containerd_test
