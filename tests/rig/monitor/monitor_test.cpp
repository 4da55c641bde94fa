// vmrt-monitor on real pod VMs (inside tools/testvm): a container started
// with the vmrt CLI, and a task of containerd's run by the vmrt shim, show
// up on /metrics under their sandbox id with the figures of a VM that ran
// (vCPU exits by vCPU and by reason, the VMM's set-up time, virtio-fs
// requests, the VMM's memory) and the guest's own (online vCPUs, the
// container's CPU, memory and pids from its agent), and are gone from the
// page once deleted.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/rig/containerd/containerd_harness.h"
#include "tests/rig/monitor/monitor_process.h"
#include "tests/rig/tools/vmrt/vmrt_cli.h"

namespace vmrt::monitor::test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using namespace std::chrono_literals;

// What every running VM shows: checked for `id` on `page`, whose one
// container (named as the sandbox) ran `ls -R /`.
void expect_vm_figures(const std::string& page, const std::string& id) {
  const std::string s = "{sandbox=\"" + id + "\"";
  const std::string c = s + ",container=\"" + id + "\"}";
  EXPECT_THAT(page, HasSubstr("\nvmrt_vm_state" + s + ",state=\"running\"} 1\n"));
  for (const std::string& series : {
           // A booted guest has left its boot vCPU many times.
           "vmrt_vmm_vcpu_exits_total" + s + ",vcpu=\"0\"}",
           // For virtio-mmio notifications, and port I/O (the serial console).
           "vmrt_vmm_vcpu_exits_by_reason_total" + s + ",reason=\"mmio\"}",
           "vmrt_vmm_vcpu_exits_by_reason_total" + s + ",reason=\"io\"}",
           "vmrt_vmm_setup_cpu_seconds" + s + "}",
           "vmrt_vmm_first_run_seconds" + s + "}",
           // The container's rootfs is on virtio-fs: the guest looked files up.
           "vmrt_vmm_virtio_fs_requests_total" + s + ",opcode=\"LOOKUP\"}",
           "vmrt_vmm_resident_memory_bytes" + s + "}",
           "vmrt_vm_memory_base_bytes" + s + "}",
           // From the guest's agent.
           "vmrt_vm_vcpus_online" + s + "}",
           "vmrt_container_cpu_seconds_total" + c,
           "vmrt_container_memory_usage_bytes" + c,
           "vmrt_container_memory_working_set_bytes" + c,
           "vmrt_container_pids" + c,
       }) {
    auto v = sample(page, series);
    ASSERT_TRUE(v) << series << " not in\n" << page;
    EXPECT_GT(*v, 0) << series;
  }
  auto oom = sample(page, "vmrt_container_oom_kills_total" + c);
  ASSERT_TRUE(oom) << page;
  EXPECT_EQ(*oom, 0);
  // The guest cannot have more vCPUs online than the VM has.
  auto online = sample(page, "vmrt_vm_vcpus_online" + s + "}");
  auto max = sample(page, "vmrt_vm_vcpus_max" + s + "}");
  ASSERT_TRUE(online && max);
  EXPECT_LE(*online, *max);
  // A VM with a NIC: every frame that crossed it has at least an Ethernet
  // header's bytes.
  for (const char* dir : {"tx", "rx"}) {
    auto frames = sample(page, std::string("vmrt_vmm_net_") + dir + "_frames_total" + s + "}");
    auto bytes = sample(page, std::string("vmrt_vmm_net_") + dir + "_bytes_total" + s + "}");
    EXPECT_EQ(frames.has_value(), bytes.has_value()) << dir;
    if (frames && bytes) EXPECT_GE(*bytes, *frames * 14) << dir;
  }
}

TEST(MonitorCli, ScrapesARunningContainersVm) {
  cli::test::VmrtCli cli;
  MonitorProcess monitor(cli.root(), cli.dir() / "no-shim");
  auto empty = monitor.scrape();
  ASSERT_TRUE(empty) << "vmrt-monitor never answered";
  EXPECT_THAT(*empty, HasSubstr("\nvmrt_pods 0\n"));

  auto b = cli.bundle("b", {"sh", "-c", "ls -R / >/dev/null; sleep 1000"});
  ASSERT_TRUE(cli.detached_ok({"run", "-d", "-b", b.string(), "watched"}));

  auto page = monitor.scrape();
  ASSERT_TRUE(page);
  EXPECT_THAT(*page, ::testing::StartsWith("HTTP/1.1 200 OK\r\n"));
  EXPECT_THAT(*page, HasSubstr("\nvmrt_pods 1\n"));
  EXPECT_THAT(*page, HasSubstr("\nvmrt_monitor_scrape_errors_total 0\n"));
  expect_vm_figures(*page, "watched");

  // Counters only grow.
  auto again = monitor.scrape();
  ASSERT_TRUE(again);
  auto before = sample(*page, "vmrt_vmm_vcpu_exits_total{sandbox=\"watched\",vcpu=\"0\"}");
  auto later = sample(*again, "vmrt_vmm_vcpu_exits_total{sandbox=\"watched\",vcpu=\"0\"}");
  ASSERT_TRUE(before && later);
  EXPECT_GE(*later, *before);

  EXPECT_TRUE(cli.run({"delete", "--force", "watched"}).status.success());
  auto after = monitor.scrape();
  ASSERT_TRUE(after);
  EXPECT_THAT(*after, HasSubstr("\nvmrt_pods 0\n"));
  EXPECT_THAT(*after, Not(HasSubstr("watched")));
  EXPECT_THAT(cli.leftovers(), ::testing::IsEmpty());
}

TEST(MonitorContainerd, ScrapesAShimsPodVm) {
  containerd_test::Containerd containerd;
  MonitorProcess monitor(containerd.dir() / "no-cli", containerd.shim_root());
  const std::string id = "monitored";
  RunResult r = containerd.ctr({"run", "--detach", "--runtime", containerd_test::kVmrtRuntime,
                                containerd_test::kBusyboxImage, id, "sh", "-c",
                                "ls -R / >/dev/null; while :; do sleep 1; done"});
  ASSERT_TRUE(r.status.success()) << r.err;
  ASSERT_EQ(containerd.wait_task_status(id, "RUNNING", 60s), "RUNNING");

  auto page = monitor.scrape();
  ASSERT_TRUE(page) << "vmrt-monitor never answered";
  EXPECT_THAT(*page, HasSubstr("\nvmrt_pods 1\n"));
  EXPECT_THAT(*page, HasSubstr("\nvmrt_monitor_scrape_errors_total 0\n"));
  // A task started with ctr is its own pod: the sandbox id is the task's.
  expect_vm_figures(*page, id);
  // The shim recorded how long the pod took to start.
  auto ready =
      sample(*page, "vmrt_pod_start_seconds{sandbox=\"" + id + "\",phase=\"sandbox_ready\"}");
  ASSERT_TRUE(ready) << *page;
  EXPECT_GT(*ready, 0);

  containerd.ctr({"task", "delete", "--force", id}, "", 60s);
  containerd.ctr({"containers", "delete", id}, "", 60s);
  auto after = monitor.scrape();
  ASSERT_TRUE(after);
  EXPECT_THAT(*after, HasSubstr("\nvmrt_pods 0\n"));
  EXPECT_THAT(*after, Not(HasSubstr(id)));
  EXPECT_THAT(containerd.leftovers(), ::testing::IsEmpty());
}

}  // namespace
}  // namespace vmrt::monitor::test
