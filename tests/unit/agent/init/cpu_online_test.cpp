// CPU hotplug in the guest against a made-up sysfs tree: a boot CPU without
// an online file, hotpluggable CPUs with one, and the present/online lists.
#include "agent/init/cpu_online.h"

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <string>

#include "agent/service/agent_service.h"
#include "common/error.h"
#include "common/tempdir.h"
#include "common/ttrpc/status.h"

namespace vmrt::agent {
namespace {

namespace fs = std::filesystem;

void put(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << text;
}

std::string get(const fs::path& p) {
  std::ifstream in(p);
  std::string s;
  std::getline(in, s);
  return s;
}

// `present` CPUs, the first `online` of them online; cpu0 has no online
// file, as on x86.
struct FakeCpus {
  TempDir dir{"cpus"};
  FakeCpus(uint32_t present, uint32_t online) {
    put(root() / "present", fmt::format("0-{}\n", present - 1));
    put(root() / "online", online == 1 ? "0\n" : fmt::format("0-{}\n", online - 1));
    fs::create_directories(root() / "cpu0");
    for (uint32_t i = 1; i < present; ++i) put(file(i), i < online ? "1\n" : "0\n");
  }
  fs::path root() const { return dir.path(); }
  fs::path file(uint32_t cpu) const { return root() / fmt::format("cpu{}", cpu) / "online"; }
};

TEST(CpuListCount, CountsRangesAndSingles) {
  EXPECT_EQ(cpu_list_count("0\n"), 1u);
  EXPECT_EQ(cpu_list_count("0-3\n"), 4u);
  EXPECT_EQ(cpu_list_count("0-1,4,6-7"), 5u);
  EXPECT_EQ(cpu_list_count("\n"), 0u);
  for (const char* bad : {"a", "3-1", "1-", "-2", "1,,2", "0-99999999", "1 2"})
    EXPECT_THROW(cpu_list_count(bad), Error) << bad;
}

TEST(SetOnlineCpus, OnlinesUpToCountAndOfflinesTheRest) {
  FakeCpus cpus(4, 1);
  EXPECT_EQ(cpu_counts(cpus.root()).online, 1u);
  EXPECT_EQ(cpu_counts(cpus.root()).present, 4u);

  CpuCounts c = set_online_cpus(cpus.root(), 3);
  EXPECT_EQ(c.online, 3u);
  EXPECT_EQ(c.present, 4u);
  EXPECT_EQ(get(cpus.file(1)), "1");
  EXPECT_EQ(get(cpus.file(2)), "1");
  EXPECT_EQ(get(cpus.file(3)), "0");

  c = set_online_cpus(cpus.root(), 1);
  EXPECT_EQ(c.online, 1u);
  for (uint32_t i : {1u, 2u, 3u}) EXPECT_EQ(get(cpus.file(i)), "0") << i;
  EXPECT_FALSE(fs::exists(cpus.root() / "cpu0" / "online")) << "cpu0 is never written";

  c = set_online_cpus(cpus.root(), 4);
  EXPECT_EQ(c.online, 4u);
}

TEST(SetOnlineCpus, AskingForTheCountOnlineWritesNothing) {
  FakeCpus cpus(3, 2);
  // Dated long ago: a write would make them now.
  auto old = fs::file_time_type::clock::now() - std::chrono::hours(24 * 365);
  for (uint32_t i : {1u, 2u}) fs::last_write_time(cpus.file(i), old);
  EXPECT_EQ(set_online_cpus(cpus.root(), 2).online, 2u);
  EXPECT_EQ(set_online_cpus(cpus.root(), 2).online, 2u);
  for (uint32_t i : {1u, 2u}) EXPECT_EQ(fs::last_write_time(cpus.file(i)), old) << i;
}

TEST(SetOnlineCpus, BadCountsAreInvalidArguments) {
  FakeCpus cpus(2, 1);
  for (uint32_t bad : {0u, 3u}) {
    try {
      set_online_cpus(cpus.root(), bad);
      FAIL() << bad;
    } catch (const ttrpc::StatusError& e) {
      EXPECT_EQ(e.status_code(), ttrpc::Code::InvalidArgument) << bad;
      EXPECT_NE(std::string(e.what()).find(bad ? "only 2 are present" : "count 0"),
                std::string::npos)
          << e.what();
    }
  }
  EXPECT_EQ(get(cpus.file(1)), "0");
}

TEST(SetOnlineCpus, ACpuTheKernelRefusesIsNamed) {
  FakeCpus cpus(3, 1);
  fs::remove(cpus.file(2));
  fs::create_symlink("/dev/full", cpus.file(2));  // reads 0s, a write fails (ENOSPC)
  try {
    set_online_cpus(cpus.root(), 3);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("CPU 2: cannot bring it online"), std::string::npos)
        << e.what();
  }
  EXPECT_EQ(get(cpus.file(1)), "1") << "the CPU before it is online";
  // A file that is no CPU's flag is an error, not a crash.
  fs::remove(cpus.file(2));
  fs::create_directories(cpus.file(2));
  EXPECT_THROW(set_online_cpus(cpus.root(), 3), Error);
}

// The rpc on the agent's service: a tree it was given is used; an agent
// that is not a VM's PID 1 refuses the real sysfs.
TEST(OnlineCpusCall, WorksInItsTreeAndNeverOnTheHostsCpus) {
  FakeCpus cpus(4, 1);
  AgentOptions options;
  options.state_dir = cpus.root() / "state";
  options.cpu_root = cpus.root();
  AgentService service(options);
  v1::OnlineCpusRequest req;
  req.set_count(2);
  v1::OnlineCpusResponse r = service.OnlineCpus(ttrpc::Context{}, req);
  EXPECT_EQ(r.online(), 2u);
  EXPECT_EQ(r.present(), 4u);
  EXPECT_EQ(get(cpus.file(1)), "1");

  AgentService host(AgentOptions{.state_dir = cpus.root() / "host-state"});
  try {
    host.OnlineCpus(ttrpc::Context{}, req);
    FAIL() << "an agent outside a VM worked on the host's CPUs";
  } catch (const ttrpc::StatusError& e) {
    EXPECT_EQ(e.status_code(), ttrpc::Code::FailedPrecondition);
    EXPECT_NE(std::string(e.what()).find("not a VM's PID 1"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace vmrt::agent
