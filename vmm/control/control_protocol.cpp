#include "vmm/control/control_protocol.h"

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "vmm/control/memory_command.h"

namespace vmrt::vmm {

namespace {
std::string error_reply(const std::string& message) {
  return nlohmann::json{{"ok", false}, {"error", message}}.dump();
}
}  // namespace

const char* state_name(RunState s) {
  switch (s) {
    case RunState::Created:
      return "created";
    case RunState::Running:
      return "running";
    case RunState::Paused:
      return "paused";
    case RunState::Ended:
      return "ended";
  }
  return "unknown";
}

std::string handle_control_request(Machine& machine, std::string_view line,
                                   const DeviceCounterSources& devices,
                                   const std::function<void()>& snapshot) {
  nlohmann::json req = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (req.is_discarded() || !req.is_object()) return error_reply("request is not a JSON object");
  auto cmd = req.find("cmd");
  if (cmd == req.end() || !cmd->is_string()) return error_reply("request has no \"cmd\" string");
  const std::string& name = cmd->get_ref<const std::string&>();
  try {
    if (name == "pause") {
      machine.pause();
    } else if (name == "resume") {
      machine.resume();
    } else if (name == "shutdown") {
      machine.stop("shutdown requested on the control socket");
    } else if (name == "snapshot") {
      if (!snapshot) return error_reply("this VMM takes no snapshot (no --snapshot-dir)");
      snapshot();
    } else if (name == "memory") {
      return memory_command(devices.mem.get(), req).dump();
    } else if (name != "info" && name != "counters") {
      return error_reply("unknown command \"" + name +
                         "\" (expected info, counters, memory, pause, resume, snapshot or "
                         "shutdown)");
    }
  } catch (const std::exception& e) {
    return error_reply(e.what());
  }
  nlohmann::json reply{{"ok", true}, {"state", state_name(machine.state())}};
  if (name == "info") {
    // As the flags say: vCPUs started at boot, and all the VM's vCPUs.
    reply["cpus"] = machine.boot_vcpu_count();
    reply["max_cpus"] = machine.vcpu_count();
    // Per vCPU, its returns to the VMM (Machine::vcpu_exits): one that stays
    // put is offline or never started and costs no host CPU.
    nlohmann::json exits = nlohmann::json::array();
    for (uint32_t i = 0; i < machine.vcpu_count(); ++i) exits.push_back(machine.vcpu_exits(i));
    reply["vcpu_exits"] = std::move(exits);
    // The same summed over the vCPUs, by why KVM_RUN returned (exit_counters.h).
    nlohmann::json reasons = nlohmann::json::object();
    for (size_t r = 0; r < kExitReasons; ++r)
      reasons[exit_reason_name(static_cast<ExitReason>(r))] =
          machine.vcpu_exits(static_cast<ExitReason>(r));
    reply["vcpu_exit_reasons"] = std::move(reasons);
    // The VMM's start-up cost, once the guest has run (Machine::setup_cpu_us).
    if (uint64_t us = machine.setup_cpu_us()) reply["setup_cpu_us"] = us;
    if (uint64_t us = machine.first_run_us()) reply["first_run_us"] = us;
    reply["mem_mib"] = machine.memory().size() >> 20;
    reply["pid"] = getpid();
  }
  if (name == "counters") reply["counters"] = counters_json(devices);
  return reply.dump();
}

}  // namespace vmrt::vmm
