// The vmrt CLI's pure logic: exec's process object and update's resources.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

#include "common/error.h"
#include "common/tempdir.h"
#include "tools/vmrt/exec_process.h"
#include "tools/vmrt/resources_flags.h"

namespace vmrt::cli {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

oci::Spec container_spec() {
  oci::Spec s;
  s.oci_version = "1.0.2";
  s.root.path = "rootfs";
  oci::Process p;
  p.args = {"sleep", "1000"};
  p.env = {"PATH=/bin", "HOME=/root"};
  p.cwd = "/srv";
  p.user.uid = 5;
  p.capabilities.bounding = {"CAP_CHOWN"};
  s.process = p;
  return s;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

TEST(ExecProcess, StartsFromTheContainersProcessWithTheFlagsApplied) {
  ExecArgs a;
  a.args = {"sh", "-c", "id"};
  a.env = {"HOME=/tmp", "X=1"};
  a.user = "7:8";
  a.caps = {"CAP_NET_ADMIN"};
  a.tty = true;
  nlohmann::json p = exec_process(a, container_spec());
  EXPECT_EQ(p["args"], nlohmann::json({"sh", "-c", "id"}));
  EXPECT_EQ(p["env"], nlohmann::json({"PATH=/bin", "HOME=/tmp", "X=1"}));
  EXPECT_EQ(p["cwd"], "/srv");
  EXPECT_EQ(p["user"]["uid"], 7);
  EXPECT_EQ(p["user"]["gid"], 8);
  EXPECT_EQ(p["terminal"], true);
  EXPECT_EQ(p["capabilities"]["bounding"], nlohmann::json({"CAP_CHOWN", "CAP_NET_ADMIN"}));
}

TEST(ExecProcess, TakesAWholeProcessFile) {
  TempDir d;
  auto f = d.path() / "process.json";
  std::ofstream(f) << R"({"args": ["/bin/ls"], "cwd": "/", "user": {"uid": 0, "gid": 0}})";
  ExecArgs a;
  a.process_file = f.string();
  nlohmann::json p = exec_process(a, container_spec());
  EXPECT_EQ(p["args"], nlohmann::json({"/bin/ls"}));
  EXPECT_EQ(p["cwd"], "/");
}

TEST(ExecProcess, RefusesBadInputNamingIt) {
  ExecArgs none;
  EXPECT_THAT(error_of([&] { exec_process(none, container_spec()); }), HasSubstr("no command"));
  ExecArgs user;
  user.args = {"true"};
  user.user = "root";
  EXPECT_THAT(error_of([&] { exec_process(user, container_spec()); }), HasSubstr("--user root"));
  ExecArgs env;
  env.args = {"true"};
  env.env = {"NOEQUALS"};
  EXPECT_THAT(error_of([&] { exec_process(env, container_spec()); }), HasSubstr("--env NOEQUALS"));
  ExecArgs file;
  file.process_file = "/nonexistent/process.json";
  EXPECT_THAT(error_of([&] { exec_process(file, container_spec()); }),
              HasSubstr("/nonexistent/process.json"));
  TempDir d;
  std::ofstream(d.path() / "p.json") << R"({"args": "notalist", "cwd": "/"})";
  ExecArgs bad;
  bad.process_file = (d.path() / "p.json").string();
  EXPECT_THAT(error_of([&] { exec_process(bad, container_spec()); }), HasSubstr("args"));
}

TEST(ExecProcess, IdsAreFreshAndValid) {
  std::string a = new_exec_id(), b = new_exec_id();
  EXPECT_NE(a, b);
  EXPECT_THAT(a, ::testing::MatchesRegex("exec-[0-9a-f]{16}"));
}

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
