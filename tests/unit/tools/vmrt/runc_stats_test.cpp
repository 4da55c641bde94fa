// vmrt events speaks runc's format: the stats layout runc fills from a cgroup
// v2 host, filled from the guest's figures (runc's --interval durations:
// cmd_events_test.cpp).

#include "tools/vmrt/runc_stats.h"

#include <gtest/gtest.h>

#include "common/error.h"
#include "tools/vmrt/commands.h"

namespace vmrt::cli {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

TEST(RuncStats, GuestFiguresInRuncsLayoutAndUnits) {
  agent::v1::StatsContainerResponse s;
  s.mutable_cpu()->set_usage_usec(1500);
  s.mutable_cpu()->set_user_usec(1000);
  s.mutable_cpu()->set_system_usec(500);
  s.mutable_cpu()->set_nr_periods(10);
  s.mutable_cpu()->set_nr_throttled(2);
  s.mutable_cpu()->set_throttled_usec(7);
  s.mutable_memory()->set_current(4096);
  s.mutable_memory()->set_limit(1 << 20);
  s.mutable_memory()->set_anon(1024);
  s.mutable_memory()->set_file(2048);
  s.mutable_memory()->set_inactive_file(512);
  s.mutable_pids()->set_current(3);
  s.mutable_pids()->set_limit(100);
  auto* io = s.add_io();
  io->set_major(254);
  io->set_minor(0);
  io->set_read_bytes(512);
  io->set_write_bytes(0);
  io->set_read_ios(1);
  io->set_write_ios(0);

  json j = runc_stats(s);
  EXPECT_EQ(j["cpu"]["usage"], json::parse(R"({"total":1500000,"kernel":500000,"user":1000000})"));
  EXPECT_EQ(j["cpu"]["throttling"],
            json::parse(R"({"periods":10,"throttledPeriods":2,"throttledTime":7000})"));
  EXPECT_EQ(j["memory"]["usage"], json::parse(R"({"limit":1048576,"usage":4096,"failcnt":0})"));
  EXPECT_EQ(j["memory"]["cache"], 2048);
  EXPECT_EQ(j["memory"]["raw"], json::parse(R"({"anon":1024,"file":2048,"inactive_file":512})"));
  EXPECT_EQ(j["memory"]["swap"], json::parse(R"({"limit":0,"failcnt":0})"));
  EXPECT_EQ(j["pids"], json::parse(R"({"current":3,"limit":100})"));
  // Go leaves out zero fields tagged omitempty: minor 0, a write of 0 bytes.
  EXPECT_EQ(j["blkio"]["ioServiceBytesRecursive"],
            json::parse(R"([{"major":254,"op":"Read","value":512},{"major":254,"op":"Write"}])"));
  EXPECT_EQ(j["blkio"]["ioServicedRecursive"][0],
            json::parse(R"({"major":254,"op":"Read","value":1})"));
  for (const char* key : {"cpuset", "hugetlb", "intel_rdt", "network_interfaces"})
    EXPECT_TRUE(j.contains(key)) << key;
}

TEST(RuncStats, NoLimitsAreRuncsNoLimits) {
  json j = runc_stats(agent::v1::StatsContainerResponse{});
  EXPECT_EQ(j["memory"]["usage"]["limit"], UINT64_MAX);  // memory.max "max"
  EXPECT_EQ(j["pids"], json::object());
  EXPECT_EQ(j["blkio"], json::object());
  EXPECT_EQ(j["cpu"]["usage"], json::parse(R"({"kernel":0,"user":0})"));
}

TEST(RuncStats, EventsCarryTypeIdAndDataOnlyWhenThereIsSome) {
  EXPECT_EQ(runc_event("oom", "c1").dump(), R"({"id":"c1","type":"oom"})");
  EXPECT_EQ(runc_event("stats", "c1", json::object({{"pids", json::object()}}))["data"]["pids"],
            json::object());
}

}  // namespace
}  // namespace vmrt::cli
