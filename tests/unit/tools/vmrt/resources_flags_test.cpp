// `vmrt update`'s resources: flags, a resources file, runc's sizes.
#include "tools/vmrt/resources_flags.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

#include "common/error.h"
#include "common/tempdir.h"
#include "tests/unit/tools/vmrt/error_of.h"

namespace vmrt::cli {
namespace {

using test::error_of;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(UpdateResources, FlagsBecomeLinuxResources) {
  UpdateArgs a;
  a.memory = "512m";
  a.cpu_quota = "50000";
  a.cpu_period = "100000";
  a.pids_limit = "64";
  a.cpuset_cpus = "0-1";
  nlohmann::json r = resources_from_flags(a);
  EXPECT_EQ(r["memory"]["limit"], 512 << 20);
  EXPECT_EQ(r["cpu"]["quota"], 50000);
  EXPECT_EQ(r["cpu"]["period"], 100000);
  EXPECT_EQ(r["cpu"]["cpus"], "0-1");
  EXPECT_EQ(r["pids"]["limit"], 64);
}

TEST(UpdateResources, FlagsOverrideTheResourcesFile) {
  TempDir d;
  auto f = d.path() / "r.json";
  std::ofstream(f) << R"({"memory": {"limit": 1000, "swap": 2000}, "pids": {"limit": 5}})";
  UpdateArgs a;
  a.resources = f.string();
  a.memory = "1g";
  nlohmann::json r = resources_from_flags(a);
  EXPECT_EQ(r["memory"]["limit"], int64_t{1} << 30);
  EXPECT_EQ(r["memory"]["swap"], 2000);
  EXPECT_EQ(r["pids"]["limit"], 5);
}

TEST(UpdateResources, RefusesBadValuesAndEmptyUpdates) {
  UpdateArgs none;
  EXPECT_THAT(error_of([&] { resources_from_flags(none); }), HasSubstr("nothing to update"));
  UpdateArgs bad;
  bad.memory = "lots";
  EXPECT_THAT(error_of([&] { resources_from_flags(bad); }), HasSubstr("--memory lots"));
  bad.memory = "10x";
  EXPECT_THAT(error_of([&] { resources_from_flags(bad); }), HasSubstr("unknown size unit"));
  UpdateArgs cpu;
  cpu.cpu_quota = "1.5";
  EXPECT_THAT(error_of([&] { resources_from_flags(cpu); }), HasSubstr("--cpu-quota 1.5"));
  UpdateArgs json;
  TempDir d;
  std::ofstream(d.path() / "r.json") << "[1, 2]";
  json.resources = (d.path() / "r.json").string();
  EXPECT_THAT(error_of([&] { resources_from_flags(json); }), HasSubstr("JSON object"));
}

TEST(UpdateResources, ParsesSizesLikeRunc) {
  EXPECT_EQ(parse_bytes("4096", "--memory"), 4096);
  EXPECT_EQ(parse_bytes("2k", "--memory"), 2048);
  EXPECT_EQ(parse_bytes("3MB", "--memory"), 3 << 20);
  EXPECT_EQ(parse_bytes("-1", "--memory"), -1);
}

}  // namespace
}  // namespace vmrt::cli
