// The VMM control socket's replies and procfs text as metrics: the samples
// a real reply gives, and what a malformed (hostile) reply does not.

#include "monitor/vm_metrics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/error.h"

namespace vmrt::monitor {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// As vmm/control/control_protocol.cpp answers.
const char* kInfo =
    R"({"ok":true,"state":"running","cpus":2,"max_cpus":4,"vcpu_exits":[5120,880,0,0],"vcpu_exit_reasons":{"io":100,"mmio":5800,"wake":1,"hlt":0},"setup_cpu_us":12500,"first_run_us":40000,"mem_mib":128,"pid":1})";
const char* kCounters = R"({"ok":true,"state":"running","counters":{
  "vsock":{"streams_refused":1,"resets_sent":2,"resets_received":3,"credit_overruns":0,
           "control_dropped":0,"connects_refused":0,"control_peak":7},
  "net":{"tx_frames":12,"tx_bytes":1800,"rx_bytes":4096,"tx_dropped":0,"tx_errors":0,"rx_frames":34,"rx_dropped":0,"rx_bad_buffers":0},
  "fs":{"requests":{"INIT":1,"LOOKUP":7},"errors":2,"malformed":0},
  "mem":{"plug_requests":3,"unplug_requests":0,"unplug_all_requests":1,"state_requests":0,
         "nacks":0,"errors":0,"malformed":0,"plugged_bytes":6291456}}})";

std::string info_text(const std::string& reply) {
  MetricSet m;
  add_info_metrics(m, "pod-a", nlohmann::json::parse(reply));
  return m.text();
}

std::string counters_text(const std::string& reply) {
  MetricSet m;
  add_counter_metrics(m, "pod-a", nlohmann::json::parse(reply));
  return m.text();
}

TEST(VmMetrics, InfoReply) {
  std::string t = info_text(kInfo);
  EXPECT_THAT(t, HasSubstr("# TYPE vmrt_vmm_vcpu_exits_total counter\n"
                           "vmrt_vmm_vcpu_exits_total{sandbox=\"pod-a\",vcpu=\"0\"} 5120\n"
                           "vmrt_vmm_vcpu_exits_total{sandbox=\"pod-a\",vcpu=\"1\"} 880\n"
                           "vmrt_vmm_vcpu_exits_total{sandbox=\"pod-a\",vcpu=\"2\"} 0\n"));
  EXPECT_THAT(
      t, HasSubstr("# TYPE vmrt_vmm_vcpu_exits_by_reason_total counter\n"
                   "vmrt_vmm_vcpu_exits_by_reason_total{sandbox=\"pod-a\",reason=\"hlt\"} 0\n"
                   "vmrt_vmm_vcpu_exits_by_reason_total{sandbox=\"pod-a\",reason=\"io\"} 100\n"
                   "vmrt_vmm_vcpu_exits_by_reason_total{sandbox=\"pod-a\",reason=\"mmio\"} 5800\n"
                   "vmrt_vmm_vcpu_exits_by_reason_total{sandbox=\"pod-a\",reason=\"wake\"} 1\n"));
  EXPECT_THAT(t, HasSubstr("vmrt_vmm_setup_cpu_seconds{sandbox=\"pod-a\"} 0.0125\n"));
  EXPECT_THAT(t, HasSubstr("vmrt_vmm_first_run_seconds{sandbox=\"pod-a\"} 0.04\n"));
  EXPECT_THAT(t, HasSubstr("vmrt_vm_state{sandbox=\"pod-a\",state=\"running\"} 1\n"));
  EXPECT_THAT(t, HasSubstr("vmrt_vm_vcpus_boot{sandbox=\"pod-a\"} 2\n"));
  EXPECT_THAT(t, HasSubstr("vmrt_vm_vcpus_max{sandbox=\"pod-a\"} 4\n"));
  EXPECT_THAT(t, HasSubstr("vmrt_vm_memory_base_bytes{sandbox=\"pod-a\"} 134217728\n"));
  // The VMM's own pid is the one in its pid namespace: not a metric.
  EXPECT_THAT(t, Not(HasSubstr("pid")));
}

TEST(VmMetrics, CountersReply) {
  std::string t = counters_text(kCounters);
  EXPECT_THAT(t, HasSubstr("vmrt_vmm_vsock_streams_refused_total{sandbox=\"pod-a\"} 1\n"));
  EXPECT_THAT(t, HasSubstr("# TYPE vmrt_vmm_vsock_control_queue_peak gauge\n"
                           "vmrt_vmm_vsock_control_queue_peak{sandbox=\"pod-a\"} 7\n"));
  EXPECT_THAT(t, HasSubstr("vmrt_vmm_net_rx_frames_total{sandbox=\"pod-a\"} 34\n"));
  EXPECT_THAT(t, HasSubstr("vmrt_vmm_net_tx_frames_total{sandbox=\"pod-a\"} 12\n"));
  EXPECT_THAT(t, HasSubstr("vmrt_vmm_net_tx_bytes_total{sandbox=\"pod-a\"} 1800\n"));
  EXPECT_THAT(t, HasSubstr("vmrt_vmm_net_rx_bytes_total{sandbox=\"pod-a\"} 4096\n"));
  EXPECT_THAT(
      t, HasSubstr("vmrt_vmm_virtio_fs_requests_total{sandbox=\"pod-a\",opcode=\"INIT\"} 1\n"
                   "vmrt_vmm_virtio_fs_requests_total{sandbox=\"pod-a\",opcode=\"LOOKUP\"} 7\n"));
  EXPECT_THAT(t, HasSubstr("vmrt_vmm_virtio_fs_errors_total{sandbox=\"pod-a\"} 2\n"));
  EXPECT_THAT(t,
              HasSubstr("vmrt_vmm_virtio_mem_requests_total{sandbox=\"pod-a\",type=\"plug\"} 3\n"));
  EXPECT_THAT(
      t,
      HasSubstr("vmrt_vmm_virtio_mem_requests_total{sandbox=\"pod-a\",type=\"unplug_all\"} 1\n"));
  EXPECT_THAT(t, HasSubstr("# TYPE vmrt_vmm_memory_plugged_bytes gauge\n"
                           "vmrt_vmm_memory_plugged_bytes{sandbox=\"pod-a\"} 6291456\n"));
}

TEST(VmMetrics, DevicesAbsentGiveNoSamples) {
  // A VM without a NIC or virtio-mem: their families are not there at all.
  std::string t = counters_text(R"({"ok":true,"counters":{"fs":{"requests":{},"errors":0}}})");
  EXPECT_THAT(t, HasSubstr("vmrt_vmm_virtio_fs_errors_total{sandbox=\"pod-a\"} 0\n"));
  EXPECT_THAT(t, Not(HasSubstr("vmrt_vmm_net_")));
  EXPECT_THAT(t, Not(HasSubstr("vmrt_vmm_virtio_mem_")));
  EXPECT_THAT(t, Not(HasSubstr("malformed")));
}

TEST(VmMetrics, MalformedRepliesAreSkippedFieldByField) {
  // Wrong types and negative numbers are left out; good fields still count.
  std::string t = info_text(
      R"({"ok":true,"state":7,"cpus":"two","max_cpus":-1,"vcpu_exits":[1,"x",-5,{},3],"mem_mib":null})");
  EXPECT_EQ(t,
            "# HELP vmrt_vmm_vcpu_exits_total returns of a vCPU from the guest to the VMM\n"
            "# TYPE vmrt_vmm_vcpu_exits_total counter\n"
            "vmrt_vmm_vcpu_exits_total{sandbox=\"pod-a\",vcpu=\"0\"} 1\n"
            "vmrt_vmm_vcpu_exits_total{sandbox=\"pod-a\",vcpu=\"4\"} 3\n");
  EXPECT_EQ(info_text("[]"), "");
  EXPECT_EQ(info_text(R"({"vcpu_exits":{"a":1}})"), "");
  EXPECT_EQ(counters_text(R"({"counters":[1,2]})"), "");
  EXPECT_EQ(counters_text(R"({"counters":{"vsock":"x","net":[],"fs":{"requests":[1]}}})"), "");
}

TEST(VmMetrics, HostileNamesStayLabelValues) {
  // An opcode name with quotes, a newline and non-ASCII bytes: escaped or
  // replaced, cut short, never breaking the line.
  nlohmann::json reply = {
      {"counters", {{"fs", {{"requests", {{"A\"}\nB\xc3\xa9" + std::string(200, 'z'), 1}}}}}}}};
  MetricSet m;
  add_counter_metrics(m, "pod-a", reply);
  std::string t = m.text();
  EXPECT_THAT(t, HasSubstr("opcode=\"A\\\"}?B??" + std::string(57, 'z') + "\"} 1\n"));
  // Two names that read the same once replaced: one sample, not two with
  // the same labels.
  MetricSet same;
  add_counter_metrics(same, "pod-a",
                      {{"counters", {{"fs", {{"requests", {{"A\n", 1}, {"A\r", 2}}}}}}}});
  std::string once = same.text();
  EXPECT_EQ(std::count(once.begin(), once.end(), '\n'), 2 + 1) << once;

  // Per-vCPU series are bounded whatever the reply's length.
  nlohmann::json info = {{"vcpu_exits", std::vector<int>(10000, 1)}};
  MetricSet many;
  add_info_metrics(many, "pod-a", info);
  std::string lines = many.text();
  EXPECT_EQ(std::count(lines.begin(), lines.end(), '\n'), 2 + 512);

  // So are the exit reasons, whatever their number.
  nlohmann::json reasons = nlohmann::json::object();
  for (int i = 0; i < 10000; ++i) reasons["r" + std::to_string(i)] = 1;
  MetricSet by_reason;
  add_info_metrics(by_reason, "pod-a", {{"vcpu_exit_reasons", reasons}});
  lines = by_reason.text();
  EXPECT_EQ(std::count(lines.begin(), lines.end(), '\n'), 2 + 512);
}

TEST(VmMetrics, StartTimes) {
  MetricSet m;
  add_start_metrics(m, "pod-a",
                    nlohmann::json::parse(R"({"vmm_ready_ms":40,"agent_ready_ms":1250,)"
                                          R"("sandbox_ready_ms":1300,"from_template":true})"));
  std::string t = m.text();
  EXPECT_THAT(t,
              HasSubstr("vmrt_pod_start_seconds{sandbox=\"pod-a\",phase=\"vmm_ready\"} 0.04\n"
                        "vmrt_pod_start_seconds{sandbox=\"pod-a\",phase=\"agent_ready\"} 1.25\n"
                        "vmrt_pod_start_seconds{sandbox=\"pod-a\",phase=\"sandbox_ready\"} 1.3\n"));
  EXPECT_THAT(t, HasSubstr("vmrt_pod_started_from_template{sandbox=\"pod-a\"} 1\n"));
  MetricSet bad;
  add_start_metrics(bad, "pod-a",
                    nlohmann::json::parse(R"({"vmm_ready_ms":"x","from_template":1})"));
  EXPECT_TRUE(bad.empty());
}

TEST(VmMetrics, ProcessFigures) {
  ProcessFigures p;
  p.memory = {.rss_bytes = 4096 * 1024, .pss_bytes = 1024 * 1024};
  p.user_seconds = 1.5;
  p.system_seconds = 0.25;
  p.processes = 2;
  MetricSet m;
  add_process_metrics(m, "pod-a", p);
  std::string t = m.text();
  EXPECT_THAT(t, HasSubstr("vmrt_vmm_resident_memory_bytes{sandbox=\"pod-a\"} 4194304\n"));
  EXPECT_THAT(t, HasSubstr("vmrt_vmm_proportional_memory_bytes{sandbox=\"pod-a\"} 1048576\n"));
  EXPECT_THAT(t, HasSubstr("vmrt_vmm_cpu_seconds_total{sandbox=\"pod-a\",mode=\"user\"} 1.5\n"
                           "vmrt_vmm_cpu_seconds_total{sandbox=\"pod-a\",mode=\"system\"} 0.25\n"));
  EXPECT_THAT(t, HasSubstr("vmrt_vmm_processes{sandbox=\"pod-a\"} 2\n"));
}

TEST(ProcessFigures, ParsesSmapsRollup) {
  const char* text =
      "55d0c0000000-7ffd00000000 ---p 00000000 00:00 0                          [rollup]\n"
      "Rss:               12345 kB\n"
      "Pss:                6789 kB\n"
      "Pss_Anon:           1000 kB\n";
  MemoryFigures m = parse_smaps_rollup(text);
  EXPECT_EQ(m.rss_bytes, 12345u * 1024);
  EXPECT_EQ(m.pss_bytes, 6789u * 1024);
  EXPECT_THROW(parse_smaps_rollup("Rss: 1 kB\n"), Error);
  EXPECT_THROW(parse_smaps_rollup("Rss: x kB\nPss: 1 kB\n"), Error);
  EXPECT_THROW(parse_smaps_rollup("Rss: 1\nPss: 1 kB\n"), Error);
  EXPECT_THROW(parse_smaps_rollup("Rss: 99999999999999999999 kB\nPss: 1 kB\n"), Error);
}

TEST(ProcessFigures, ParsesStat) {
  // A command name with spaces and parentheses: counted from the last ')'.
  const char* text =
      "4242 (vmrt-vmm (x) y) S 1 4242 4242 0 -1 4194560 1234 0 0 0 250 75 0 0 20 0 3 0 "
      "98765 123456789 2000 18446744073709551615\n";
  CpuFigures c = parse_proc_stat(text);
  EXPECT_EQ(c.user_ticks, 250u);
  EXPECT_EQ(c.system_ticks, 75u);
  EXPECT_THROW(parse_proc_stat("4242 (x) S 1 2 3"), Error);
  EXPECT_THROW(parse_proc_stat("no parenthesis"), Error);
  EXPECT_THROW(parse_proc_stat("1 (x) S 1 1 1 0 -1 0 0 0 0 0 u 75 0"), Error);
}

TEST(ProcessFigures, ReadsThisProcess) {
  ProcessFigures p = read_process_figures(::getpid());
  EXPECT_GE(p.processes, 1u);
  EXPECT_GT(p.memory.rss_bytes, 0u);
  EXPECT_GT(p.memory.pss_bytes, 0u);
  EXPECT_THROW(read_process_figures(0x7ffffff0), Error);
}

}  // namespace
}  // namespace vmrt::monitor
