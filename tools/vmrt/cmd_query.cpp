// vmrt state, list, ps, update, spec, features.

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "common/error.h"
#include "sandbox/vm_resize.h"
#include "tools/vmrt/commands.h"
#include "tools/vmrt/container_access.h"
#include "tools/vmrt/default_spec.h"
#include "tools/vmrt/features.h"
#include "tools/vmrt/resources_flags.h"

namespace vmrt::cli {
namespace {

// runc's table layout (Go tabwriter, minimum cell width 12, padding 3).
void print_table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width;
  for (const auto& row : rows)
    for (size_t i = 0; i < row.size(); ++i) {
      if (width.size() <= i) width.push_back(0);
      width[i] = std::max({width[i], row[i].size() + 3, size_t{12}});
    }
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i)
      line += i + 1 == row.size() ? row[i] : row[i] + std::string(width[i] - row[i].size(), ' ');
    std::cout << line << "\n";
  }
}

}  // namespace

int cmd_state(const Globals& g, const std::string& id) {
  check_container_id(id);
  std::cout << oci_state_json(g.store().read(id)).dump(2) << "\n";
  return 0;
}

int cmd_list(const Globals& g, const ListArgs& a) {
  if (a.format != "table" && a.format != "json")
    fail("--format {}: must be table or json", a.format);
  StateStore store = g.store();
  std::vector<ContainerRecord> records;
  for (const auto& id : store.ids()) {
    try {
      records.push_back(store.read(id));
    } catch (const Error&) {
      // Being created or half removed: not a container to show yet.
    }
  }
  if (a.quiet) {
    for (const auto& r : records) std::cout << r.id << "\n";
    return 0;
  }
  if (a.format == "json") {
    nlohmann::ordered_json all = nlohmann::ordered_json::array();
    for (const auto& r : records) all.push_back(oci_state_json(r, store.owner(r.id)));
    std::cout << all.dump() << "\n";
    return 0;
  }
  std::vector<std::vector<std::string>> rows = {
      {"ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"}};
  for (const auto& r : records) {
    auto s = oci_state_json(r, store.owner(r.id));
    rows.push_back({r.id, std::to_string(s.value("pid", 0)), s.value("status", ""),
                    r.bundle.string(), r.created, s.value("owner", "")});
  }
  print_table(rows);
  return 0;
}

int cmd_ps(const Globals& g, const std::string& id, const std::string& format) {
  if (format != "table" && format != "json") fail("--format {}: must be table or json", format);
  ContainerRecord r = g.store().read(id);
  require_status(r, "list the processes of", {Status::Created, Status::Running, Status::Paused});
  if (format == "json") {
    // Clients look these pids up on the host (`docker top` in its ps
    // output, the runc shim's Pids): the container's processes are not
    // there, the keeper that stands for them is.
    std::cout << nlohmann::json(std::vector<pid_t>{r.keeper.pid}).dump() << "\n";
    return 0;
  }
  std::vector<uint32_t> pids = ContainerAgent(r).calls.pids(id);
  std::sort(pids.begin(), pids.end());
  // The pids are the guest's: the container's processes do not exist on
  // the host, so there is no host ps line to show for them.
  std::cout << "PID\n";
  for (uint32_t pid : pids) std::cout << pid << "\n";
  return 0;
}

int cmd_update(const Globals& g, const UpdateArgs& a) {
  nlohmann::json resources = resources_from_flags(a);
  LockedContainer c = g.store().lock(a.id);
  ContainerRecord r = c.read();
  require_status(r, "update", {Status::Created, Status::Running, Status::Paused});
  ContainerAgent ca(r);
  // The VM follows the container's limits, as the shim's Update does.
  sandbox::RuntimeConfig config = sandbox::sandbox_config(g.config, r.annotations);
  sandbox::VmLevers levers = sandbox::vm_levers(
      ca.agent, std::nullopt, r.vm_socket.parent_path() / "control.sock",
      [&](const sandbox::VmmLimits& l) { sandbox::set_limits_of_process(r.vmm.pid, l); });
  auto resize = [&](const sandbox::Demand& d) {
    sandbox::Resized done = sandbox::resize_vm(levers, config.memory_mib,
                                               sandbox::size_for(config, d), config.boot_timeout);
    if (!done.shortfall.empty())
      spdlog::warn("container {}: VM resize short: {}", a.id, done.shortfall);
  };
  sandbox::Demand after =
      sandbox::update_limits({r.limit_memory_bytes, r.limit_millicpus}, resources, resize,
                             [&] { ca.calls.update(a.id, resources.dump()); });
  r.limit_memory_bytes = after.memory_bytes;
  r.limit_millicpus = after.millicpus;
  c.write(r);
  return 0;
}

int cmd_spec(const std::string& bundle) {
  std::filesystem::path path = std::filesystem::path(bundle) / "config.json";
  if (std::filesystem::exists(path)) fail("File {} exists. Remove it first", path.string());
  std::ofstream out(path);
  out << default_spec().dump(2) << "\n";
  if (!out.flush()) fail("cannot write {}", path.string());
  return 0;
}

int cmd_features(const Globals& g) {
  std::cout << features(g.runtime_config()).dump(2) << "\n";
  return 0;
}

}  // namespace vmrt::cli
