#include "monitor/vm_metrics.h"

#include <optional>
#include <set>

namespace vmrt::monitor {
namespace {

// Label values taken from a reply are cut to this length: a hostile VMM
// must not make the page grow by much per sample.
constexpr size_t kMaxLabelValue = 64;
// Per-vCPU and per-opcode samples from one reply, at most.
constexpr size_t kMaxSeries = 512;

// A name from a reply as a label value: printable ASCII (cutting a UTF-8
// sequence in two would make the page invalid), at most kMaxLabelValue.
std::string label_text(const std::string& s) {
  std::string out = s.substr(0, kMaxLabelValue);
  for (char& c : out)
    if (c < 0x20 || c > 0x7e) c = '?';
  return out;
}

std::optional<double> number(const nlohmann::json& obj, const char* key) {
  if (!obj.is_object()) return std::nullopt;
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_number() || it->get<double>() < 0) return std::nullopt;
  return it->get<double>();
}

const nlohmann::json& member(const nlohmann::json& obj, const char* key) {
  static const nlohmann::json none;
  if (!obj.is_object()) return none;
  auto it = obj.find(key);
  return it == obj.end() ? none : *it;
}

struct Field {
  const char* key;   // in the device's counters object
  const char* name;  // the metric
  MetricType type;
  const char* help;
};

constexpr MetricType C = MetricType::Counter;
constexpr MetricType G = MetricType::Gauge;

// vmm/devices/*/counters.h say what each counts.
constexpr Field kVsock[] = {
    {"streams_refused", "vmrt_vmm_vsock_streams_refused_total", C,
     "vsock streams refused at the device's stream limit"},
    {"resets_sent", "vmrt_vmm_vsock_resets_sent_total", C, "vsock RST packets sent to the guest"},
    {"resets_received", "vmrt_vmm_vsock_resets_received_total", C,
     "vsock RST packets received from the guest"},
    {"credit_overruns", "vmrt_vmm_vsock_credit_overruns_total", C,
     "vsock streams reset because the guest sent past its credit"},
    {"control_dropped", "vmrt_vmm_vsock_control_dropped_total", C,
     "vsock resets dropped because the control queue was full"},
    {"connects_refused", "vmrt_vmm_vsock_connects_refused_total", C,
     "guest vsock connection requests refused while the control queue was full"},
    {"control_peak", "vmrt_vmm_vsock_control_queue_peak", G,
     "most vsock control packets ever waiting for a guest receive buffer"},
};
constexpr Field kNet[] = {
    {"tx_frames", "vmrt_vmm_net_tx_frames_total", C, "frames the guest sent"},
    {"tx_bytes", "vmrt_vmm_net_tx_bytes_total", C,
     "bytes of the frames the guest sent (virtio-net header not counted)"},
    {"tx_dropped", "vmrt_vmm_net_tx_dropped_total", C,
     "guest transmit chains refused as malformed or over the limits"},
    {"tx_errors", "vmrt_vmm_net_tx_errors_total", C, "guest frames the tap device refused"},
    {"rx_frames", "vmrt_vmm_net_rx_frames_total", C, "frames passed to the guest"},
    {"rx_bytes", "vmrt_vmm_net_rx_bytes_total", C,
     "bytes of the frames passed to the guest (virtio-net header not counted)"},
    {"rx_dropped", "vmrt_vmm_net_rx_dropped_total", C,
     "frames larger than the guest's buffers could hold"},
    {"rx_bad_buffers", "vmrt_vmm_net_rx_bad_buffers_total", C,
     "guest receive chains that could not take a frame"},
};
constexpr Field kFs[] = {
    {"errors", "vmrt_vmm_virtio_fs_errors_total", C, "virtio-fs replies carrying an errno"},
    {"malformed", "vmrt_vmm_virtio_fs_malformed_total", C, "virtio-fs requests refused unparsed"},
};
constexpr Field kMem[] = {
    {"nacks", "vmrt_vmm_virtio_mem_nacks_total", C,
     "virtio-mem requests answered NACK (a plug past the requested size)"},
    {"errors", "vmrt_vmm_virtio_mem_errors_total", C, "virtio-mem requests answered ERROR"},
    {"malformed", "vmrt_vmm_virtio_mem_malformed_total", C,
     "virtio-mem chains too short for a request"},
    {"plugged_bytes", "vmrt_vmm_memory_plugged_bytes", G,
     "hotplugged memory the guest has plugged"},
};

template <size_t N>
void add_fields(MetricSet& out, const std::string& sandbox, const nlohmann::json& device,
                const Field (&fields)[N]) {
  for (const Field& f : fields)
    if (auto v = number(device, f.key)) out.add(f.name, f.type, f.help, {{"sandbox", sandbox}}, *v);
}

// A counter per name of `counts` ({"LOOKUP":7,...}), the name as label
// `label`: at most kMaxSeries, and each label value once (two names that
// read the same once cut or replaced would make two samples with the same
// labels, and Prometheus refuse the page).
void add_by_name(MetricSet& out, const char* name, const char* help, const std::string& sandbox,
                 const char* label, const nlohmann::json& counts) {
  if (!counts.is_object()) return;
  std::set<std::string> seen;
  size_t n = 0;
  for (const auto& [key, count] : counts.items()) {
    if (n++ == kMaxSeries) break;
    if (!count.is_number() || count.get<double>() < 0) continue;
    std::string value = label_text(key);
    if (!seen.insert(value).second) continue;
    out.add(name, C, help, {{"sandbox", sandbox}, {label, value}}, count.get<double>());
  }
}

}  // namespace

void add_info_metrics(MetricSet& out, const std::string& sandbox, const nlohmann::json& info) {
  const Labels vm{{"sandbox", sandbox}};
  const nlohmann::json& state = member(info, "state");
  if (state.is_string())
    out.add("vmrt_vm_state", G, "the VM's run state (created, running, paused, ended): always 1",
            {{"sandbox", sandbox}, {"state", label_text(state.get<std::string>())}}, 1);
  if (auto v = number(info, "cpus"))
    out.add("vmrt_vm_vcpus_boot", G, "vCPUs started at boot", vm, *v);
  if (auto v = number(info, "max_cpus"))
    out.add("vmrt_vm_vcpus_max", G, "vCPUs the VM has, offline ones included", vm, *v);
  if (auto v = number(info, "mem_mib"))
    out.add("vmrt_vm_memory_base_bytes", G, "the VM's boot memory, hotplugged memory not included",
            vm, *v * 1024 * 1024);
  const nlohmann::json& exits = member(info, "vcpu_exits");
  if (exits.is_array()) {
    for (size_t i = 0; i < exits.size() && i < kMaxSeries; ++i) {
      if (!exits[i].is_number() || exits[i].get<double>() < 0) continue;
      out.add("vmrt_vmm_vcpu_exits_total", C, "returns of a vCPU from the guest to the VMM",
              {{"sandbox", sandbox}, {"vcpu", std::to_string(i)}}, exits[i].get<double>());
    }
  }
  add_by_name(out, "vmrt_vmm_vcpu_exits_by_reason_total",
              "returns of the VM's vCPUs to the VMM, summed over the vCPUs, by KVM exit reason",
              sandbox, "reason", member(info, "vcpu_exit_reasons"));
  if (auto us = number(info, "setup_cpu_us"))
    out.add("vmrt_vmm_setup_cpu_seconds", G,
            "CPU time the VMM process spent before the guest's first instruction", vm, *us / 1e6);
  if (auto us = number(info, "first_run_us"))
    out.add("vmrt_vmm_first_run_seconds", G,
            "time from the VMM's start to the guest's first instruction", vm, *us / 1e6);
}

void add_counter_metrics(MetricSet& out, const std::string& sandbox,
                         const nlohmann::json& counters_reply) {
  const nlohmann::json& devices = member(counters_reply, "counters");
  add_fields(out, sandbox, member(devices, "vsock"), kVsock);
  add_fields(out, sandbox, member(devices, "net"), kNet);
  const nlohmann::json& fs = member(devices, "fs");
  add_by_name(out, "vmrt_vmm_virtio_fs_requests_total", "virtio-fs (FUSE) requests by opcode",
              sandbox, "opcode", member(fs, "requests"));
  add_fields(out, sandbox, fs, kFs);
  const nlohmann::json& mem = member(devices, "mem");
  for (const char* type : {"plug", "unplug", "unplug_all", "state"}) {
    if (auto v = number(mem, (std::string(type) + "_requests").c_str()))
      out.add("vmrt_vmm_virtio_mem_requests_total", C, "virtio-mem requests by type",
              {{"sandbox", sandbox}, {"type", type}}, *v);
  }
  add_fields(out, sandbox, mem, kMem);
}

void add_start_metrics(MetricSet& out, const std::string& sandbox, const nlohmann::json& times) {
  for (const char* phase : {"vmm_ready", "agent_ready", "sandbox_ready"}) {
    if (auto ms = number(times, (std::string(phase) + "_ms").c_str()))
      out.add("vmrt_pod_start_seconds", G,
              "time from the VMM's spawn to the end of each phase of the pod's start",
              {{"sandbox", sandbox}, {"phase", phase}}, *ms / 1000);
  }
  const nlohmann::json& from_template = member(times, "from_template");
  if (from_template.is_boolean())
    out.add("vmrt_pod_started_from_template", G,
            "1 when the pod's VM was restored from a VM template, 0 when it booted",
            {{"sandbox", sandbox}}, from_template.get<bool>() ? 1 : 0);
}

void add_process_metrics(MetricSet& out, const std::string& sandbox, const ProcessFigures& p) {
  const Labels vm{{"sandbox", sandbox}};
  out.add("vmrt_vmm_resident_memory_bytes", G,
          "resident memory of the VMM and its child processes (shared pages counted in each)", vm,
          static_cast<double>(p.memory.rss_bytes));
  out.add("vmrt_vmm_proportional_memory_bytes", G,
          "proportional set size (PSS) of the VMM and its child processes", vm,
          static_cast<double>(p.memory.pss_bytes));
  out.add("vmrt_vmm_cpu_seconds_total", C, "CPU time of the VMM and its child processes",
          {{"sandbox", sandbox}, {"mode", "user"}}, p.user_seconds);
  out.add("vmrt_vmm_cpu_seconds_total", C, "CPU time of the VMM and its child processes",
          {{"sandbox", sandbox}, {"mode", "system"}}, p.system_seconds);
  out.add("vmrt_vmm_processes", G, "processes of the VMM summed in the figures above", vm,
          p.processes);
}

}  // namespace vmrt::monitor
