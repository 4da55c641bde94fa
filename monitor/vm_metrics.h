#pragma once
// A VM's figures as metrics: the replies of its VMM's control socket
// ("info" and "counters", vmm/control/control_protocol.h) and what its VMM
// processes cost the host (process_figures.h), each sample labelled with
// the VM's sandbox id.
//
// The replies come from the VMM, which a guest that escaped into it would
// control: a field that is missing or not a number is left out, never
// trusted to be well-formed, and names taken from it (FUSE opcodes) are
// only ever label values.

#include <nlohmann/json.hpp>
#include <string>

#include "monitor/process_figures.h"
#include "monitor/prometheus_text.h"

namespace vmrt::monitor {

// From {"cmd":"info"}'s reply: state, vCPUs, exits per vCPU and by reason,
// base memory, the VMM's set-up time.
void add_info_metrics(MetricSet& out, const std::string& sandbox, const nlohmann::json& info);
// From {"cmd":"counters"}'s reply: its "counters" object, device by device.
void add_counter_metrics(MetricSet& out, const std::string& sandbox,
                         const nlohmann::json& counters_reply);
// From the shim's start_times.json (shim/vmm_pid_file.h): how long after
// the VMM's spawn each phase of the pod's start ended.
void add_start_metrics(MetricSet& out, const std::string& sandbox, const nlohmann::json& times);
void add_process_metrics(MetricSet& out, const std::string& sandbox, const ProcessFigures& p);

}  // namespace vmrt::monitor
