// Finding pod VMs in fake state directories of the vmrt CLI and the shim,
// asking their (fake) control sockets, and a whole scrape over them: what
// is found, what is skipped, and that a VM that does not answer is an error
// that does not stop the others from being reported.

#include "monitor/discovery.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

#include "common/error.h"
#include "common/process.h"
#include "common/tempdir.h"
#include "monitor/control_query.h"
#include "monitor/scrape.h"
#include "tests/unit/monitor/fake_agent.h"
#include "tests/unit/monitor/fake_control_socket.h"
#include "tools/vmrt/state_store.h"

namespace vmrt::monitor {
namespace {

namespace fs = std::filesystem;
using test::FakeControlSocket;
using ::testing::HasSubstr;
using ::testing::Not;
using namespace std::chrono_literals;

void write_file(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << text;
}

class Discover : public ::testing::Test {
 protected:
  // A CLI container whose VMM is `vmm`.
  fs::path add_cli(const std::string& id, cli::ProcessId vmm) {
    cli::ContainerRecord r;
    r.id = id;
    r.bundle = "/srv/" + id;
    r.rootfs = "/srv/" + id + "/rootfs";
    r.status = cli::Status::Running;
    r.keeper = vmm;
    r.vmm = vmm;
    write_file(roots_.cli / id / "state.json", cli::to_json(r).dump());
    return roots_.cli / id / "vm" / "control.sock";
  }
  // A shim pod directory (named as a hash, as the shim names them).
  fs::path add_shim(const std::string& hash, pid_t vmm, const std::string& pod,
                    const std::string& start_times = "") {
    if (!start_times.empty()) write_file(roots_.shim / hash / "start_times.json", start_times);
    write_file(roots_.shim / hash / "vmm.pid", std::to_string(vmm) + "\n");
    if (!pod.empty()) write_file(roots_.shim / hash / "pod", pod + "\n");
    return roots_.shim / hash / "sandbox" / "vm" / "control.sock";
  }
  // A process whose argv[0] says vmrt-vmm, as a VMM's does.
  Subprocess fake_vmm() {
    SpawnOptions o;
    o.program = "/bin/sleep";
    return Subprocess::spawn({(dir_.path() / "bin" / "vmrt-vmm").string(), "1000"}, o);
  }

  TempDir dir_{"monitor-test"};
  StateRoots roots_{dir_.path() / "run", dir_.path() / "run" / "shim"};
};

TEST_F(Discover, FindsCliAndShimVms) {
  Subprocess vmm = fake_vmm();
  fs::path cli_socket = add_cli("web-1", cli::ProcessId::of(::getpid()));
  fs::path shim_socket = add_shim("00000000000000aa", vmm.pid(), "pod-b");

  Discovery d = discover_pod_vms(roots_);
  EXPECT_THAT(d.errors, ::testing::IsEmpty());
  ASSERT_EQ(d.vms.size(), 2u);
  EXPECT_EQ(d.vms[0].sandbox, "pod-b");
  EXPECT_EQ(d.vms[0].control_socket, shim_socket);
  EXPECT_EQ(d.vms[0].vmm_pid, vmm.pid());
  EXPECT_EQ(d.vms[0].start_times, roots_.shim / "00000000000000aa" / "start_times.json");
  EXPECT_TRUE(d.vms[1].start_times.empty());
  EXPECT_EQ(d.vms[1].sandbox, "web-1");
  EXPECT_EQ(d.vms[1].control_socket, cli_socket);
  EXPECT_EQ(d.vms[1].vmm_pid, ::getpid());
}

TEST_F(Discover, SkipsWhatHasNoRunningVm) {
  // A VMM that ended: its recorded process is gone (the start time no
  // longer matches).
  cli::ProcessId gone = cli::ProcessId::of(::getpid());
  gone.start_time += 1;
  add_cli("ended", gone);
  // A create under way: no VMM recorded yet.
  add_cli("creating", cli::ProcessId{});
  // A shim whose recorded pid is some other process (pid reuse).
  add_shim("00000000000000bb", ::getpid(), "pod-c");
  // A shim directory without a VM yet.
  write_file(roots_.shim / "00000000000000cc" / "shim.sock", "");
  Discovery d = discover_pod_vms(roots_);
  EXPECT_THAT(d.vms, ::testing::IsEmpty());
  EXPECT_THAT(d.errors, ::testing::IsEmpty());

  // Missing roots are empty ones.
  EXPECT_TRUE(discover_pod_vms({dir_.path() / "none", dir_.path() / "none2"}).vms.empty());
}

TEST_F(Discover, CorruptRecordsAreErrorsNotFailures) {
  Subprocess vmm = fake_vmm();
  write_file(roots_.cli / "bad" / "state.json", "{not json");
  add_shim("00000000000000dd", vmm.pid(), "");           // no pod id
  add_shim("00000000000000ee", vmm.pid(), "../../etc");  // not an id
  write_file(roots_.shim / "00000000000000ff" / "vmm.pid", "12x\n");
  add_cli("good", cli::ProcessId::of(::getpid()));
  Discovery d = discover_pod_vms(roots_);
  ASSERT_EQ(d.vms.size(), 1u);
  EXPECT_EQ(d.vms[0].sandbox, "good");
  EXPECT_EQ(d.errors.size(), 4u) << ::testing::PrintToString(d.errors);
}

TEST_F(Discover, QueriesTheControlSocket) {
  fs::path socket = dir_.path() / "vm" / "control.sock";
  FakeControlSocket vmm(socket, test::sample_replies());
  auto replies = query_control(socket, {{{"cmd", "info"}}, {{"cmd", "counters"}}}, 5s);
  ASSERT_EQ(replies.size(), 2u);
  EXPECT_EQ(replies[0]["cpus"], 2);
  EXPECT_TRUE(replies[1]["counters"].is_object());

  try {
    query_control(socket, {{{"cmd", "nope"}}}, 5s);
    ADD_FAILURE() << "an error reply was taken";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("unknown command"));
  }
  EXPECT_THROW(query_control(dir_.path() / "missing.sock", {{{"cmd", "info"}}}, 5s), Error);
}

TEST_F(Discover, HungAndFloodingVmmsAreBounded) {
  fs::path silent = dir_.path() / "silent" / "control.sock";
  fs::path flood = dir_.path() / "flood" / "control.sock";
  FakeControlSocket hung(silent, {}, FakeControlSocket::Mode::Silent);
  FakeControlSocket hostile(flood, {}, FakeControlSocket::Mode::Flood);
  try {
    query_control(silent, {{{"cmd", "info"}}}, 100ms);
    ADD_FAILURE() << "a silent VMM answered";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("no answer in time"));
  }
  try {
    query_control(flood, {{{"cmd", "info"}}}, 60s);
    ADD_FAILURE() << "an endless reply was taken";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("longer than"));
  }
}

TEST_F(Discover, ScrapeReportsAnsweringVmsAndCountsTheOthers) {
  Subprocess vmm = fake_vmm();
  FakeControlSocket a(add_cli("web-1", cli::ProcessId::of(::getpid())), test::sample_replies());
  FakeControlSocket b(
      add_shim("00000000000000aa", vmm.pid(), "pod-b",
               R"({"vmm_ready_ms":20,"agent_ready_ms":900,"sandbox_ready_ms":950})"),
      test::sample_replies());
  FakeControlSocket hung(add_shim("00000000000000ab", vmm.pid(), "pod-hung"), {},
                         FakeControlSocket::Mode::Silent);
  add_shim("00000000000000ac", vmm.pid(), "pod-nosocket");

  Scraper scraper({roots_, 200ms, 2, /*ask_agents=*/false});
  std::string text = scraper.scrape();
  EXPECT_THAT(text, HasSubstr("vmrt_pods 4\n"));
  EXPECT_THAT(text, HasSubstr("vmrt_monitor_scrape_errors_total 2\n"));
  for (const char* id : {"web-1", "pod-b"}) {
    std::string s = std::string("{sandbox=\"") + id + "\"";
    EXPECT_THAT(text, HasSubstr("vmrt_vmm_vcpu_exits_total" + s + ",vcpu=\"0\"} 5120\n"));
    EXPECT_THAT(text,
                HasSubstr("vmrt_vmm_virtio_fs_requests_total" + s + ",opcode=\"LOOKUP\"} 7\n"));
    EXPECT_THAT(text, HasSubstr("vmrt_vmm_resident_memory_bytes" + s + "} "));
    EXPECT_THAT(text, HasSubstr("vmrt_vmm_cpu_seconds_total" + s + ",mode=\"user\"} "));
  }
  // The shim's pod has its start times; the CLI keeps none.
  EXPECT_THAT(text,
              HasSubstr("vmrt_pod_start_seconds{sandbox=\"pod-b\",phase=\"agent_ready\"} 0.9\n"));
  EXPECT_THAT(text, Not(HasSubstr("vmrt_pod_start_seconds{sandbox=\"web-1\"")));
  EXPECT_THAT(text, Not(HasSubstr("pod-hung")));
  EXPECT_THAT(text, Not(HasSubstr("pod-nosocket")));
  // Every family once, its samples together.
  EXPECT_EQ(text.find("# TYPE vmrt_vmm_vcpu_exits_total"),
            text.rfind("# TYPE vmrt_vmm_vcpu_exits_total"));
  EXPECT_THAT(text, HasSubstr("vmrt_vmm_vcpu_exits_total{sandbox=\"pod-b\",vcpu=\"1\"} 880\n"
                              "vmrt_vmm_vcpu_exits_total{sandbox=\"web-1\",vcpu=\"0\"}"));

  // A counter: the errors add up over the monitor's life.
  EXPECT_THAT(scraper.scrape(), HasSubstr("vmrt_monitor_scrape_errors_total 4\n"));
}

TEST_F(Discover, ScrapeAsksEachGuestsAgent) {
  FakeControlSocket vmm(add_cli("web-1", cli::ProcessId::of(::getpid())), test::sample_replies());
  agent::v1::SandboxStatsResponse stats;
  stats.set_cpus_online(2);
  auto* c = stats.add_containers();
  c->set_container_id("app");
  c->mutable_stats()->mutable_memory()->set_current(4096);
  test::FakeAgent agent(roots_.cli / "web-1" / "vm" / "vm.sock", test::stats_answer(stats));

  Scraper scraper({roots_, 5s, 2});
  std::string text = scraper.scrape();
  EXPECT_THAT(text, HasSubstr("vmrt_monitor_scrape_errors_total 0\n"));
  EXPECT_THAT(text, HasSubstr("vmrt_vm_vcpus_online{sandbox=\"web-1\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("vmrt_container_memory_usage_bytes{sandbox=\"web-1\",container="
                              "\"app\"} 4096\n"));
  // The VMM's figures are there beside the guest's.
  EXPECT_THAT(text, HasSubstr("vmrt_vmm_vcpu_exits_total{sandbox=\"web-1\",vcpu=\"0\"} 5120\n"));
}

}  // namespace
}  // namespace vmrt::monitor
