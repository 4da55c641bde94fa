// `vmrt exec`'s process object: from the container's process and the flags,
// or a whole process file.

#include "tools/vmrt/exec_process.h"

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

}  // namespace
}  // namespace vmrt::cli
