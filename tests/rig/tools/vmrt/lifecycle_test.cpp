// vmrt run/create/start/state/kill/delete/exec/pause/resume/list on real
// sandbox VMs (inside tools/testvm), checked against what runc reports.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <fstream>
#include <future>
#include <thread>

#include "tests/rig/tools/vmrt/vmrt_cli.h"

namespace vmrt::cli::test {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::StartsWith;
using namespace std::chrono_literals;

class VmrtRun : public ::testing::Test {
 protected:
  void TearDown() override {
    if (!HasFailure()) {
      EXPECT_THAT(cli_.leftovers(), IsEmpty());
    }
  }
  VmrtCli cli_;
};

TEST_F(VmrtRun, PrintsOutputAndReturnsExitCodes) {
  auto b = cli_.bundle("b", {"sh", "-c", "echo out from $(hostname); echo err >&2; exit 7"});
  RunResult r = cli_.run({"run", "--keep", "--bundle", b.string(), "c7"});
  EXPECT_EQ(r.status.code, 7) << r.err;
  EXPECT_EQ(r.out, "out from vmrt\n");
  EXPECT_EQ(r.err, "err\n");

  auto b0 = cli_.bundle("b0", {"true"});
  r = cli_.run({"run", "-b", b0.string(), "c0"});
  EXPECT_TRUE(r.status.success()) << r.status.to_string() << " " << r.err;

  // Killed from outside (a pid namespace's init ignores its own SIGKILL):
  // the foreground run returns 128 + 9.
  b = cli_.bundle("b9", {"sleep", "1000"});
  std::promise<RunResult> killed;
  std::thread fg([&] { killed.set_value(cli_.run({"run", "-b", b.string(), "c9"})); });
  EXPECT_EQ(cli_.wait_status("c9", "running"), "running");
  EXPECT_TRUE(cli_.run({"kill", "c9", "9"}).status.success());
  fg.join();
  r = killed.get_future().get();
  EXPECT_EQ(r.status.code, 137) << r.err;

  // As runc run: an exited container is deleted, so its id is free for the
  // next run; with --keep it stays listed, stopped, until deleted.
  for (const char* id : {"c0", "c9"}) {
    RunResult gone = cli_.run({"state", id});
    EXPECT_NE(gone.status.code, 0);
    EXPECT_THAT(gone.err, HasSubstr("container ID does not exist")) << id;
  }
  r = cli_.run({"run", "-b", b0.string(), "c0"});
  EXPECT_TRUE(r.status.success()) << "the same id again: " << r.err;
  EXPECT_EQ(cli_.state("c7").value("status", ""), "stopped");
  RunResult d = cli_.run({"delete", "c7"});
  EXPECT_TRUE(d.status.success()) << d.err;
}

TEST_F(VmrtRun, PipesStdinToTheContainer) {
  auto b = cli_.bundle("b", {"sh", "-c", "wc -c; cat"});
  std::string input(100000, 'x');
  input += "\nend\n";
  RunResult r = cli_.run({"run", "-b", b.string(), "cat"}, input);
  EXPECT_TRUE(r.status.success()) << r.err;
  // wc reads everything to end of file; cat then has nothing left.
  EXPECT_EQ(r.out, std::to_string(input.size()) + "\n");
}

TEST_F(VmrtRun, MemoryLimitOomKillsTheContainer) {
  // 16 MiB limit, then a shell variable of 32 MiB (small: the rig emulates the CPU).
  auto b =
      cli_.bundle("b", {"sh", "-c", "x=$(head -c 33554432 /dev/zero | tr '\\0' a); echo survived"},
                  [](nlohmann::json& j) { j["linux"]["resources"]["memory"]["limit"] = 16 << 20; });
  RunResult r = cli_.run({"run", "-b", b.string(), "oom"});
  EXPECT_EQ(r.status.code, 137) << r.out << r.err;
  EXPECT_THAT(r.out, ::testing::Not(HasSubstr("survived")));
}

TEST_F(VmrtRun, CreateStartStateKillDeleteAsRuncReportsThem) {
  auto b = cli_.bundle("b", {"sleep", "1000"});
  RunResult r = cli_.run_detached(
      {"create", "--bundle", b.string(), "--pid-file", (cli_.dir() / "pid").string(), "life"});
  ASSERT_TRUE(r.status.success()) << r.err;
  nlohmann::json s = cli_.state("life");
  EXPECT_EQ(s.value("status", ""), "created");
  EXPECT_EQ(s.value("id", ""), "life");
  EXPECT_EQ(s.value("bundle", ""), b.string());
  EXPECT_GT(s.value("pid", 0), 0);
  std::ifstream pid_file(cli_.dir() / "pid");
  int pid = 0;
  pid_file >> pid;
  EXPECT_EQ(pid, s.value("pid", -1));

  // Duplicate id: refused, the first container untouched.
  r = cli_.run_detached({"create", "--bundle", b.string(), "life"});
  EXPECT_NE(r.status.code, 0);
  EXPECT_THAT(r.err, HasSubstr("already exists"));
  EXPECT_EQ(cli_.state("life").value("status", ""), "created");

  r = cli_.run({"start", "life"});
  ASSERT_TRUE(r.status.success()) << r.err;
  EXPECT_EQ(cli_.state("life").value("status", ""), "running");

  r = cli_.run({"start", "life"});
  EXPECT_NE(r.status.code, 0);
  EXPECT_THAT(r.err, HasSubstr("it is running"));

  r = cli_.run({"delete", "life"});
  EXPECT_NE(r.status.code, 0);
  EXPECT_THAT(r.err, HasSubstr("not stopped"));
  EXPECT_EQ(cli_.state("life").value("status", ""), "running");

  r = cli_.run({"exec", "life", "sh", "-c", "echo exec in $(hostname); exit 3"});
  EXPECT_EQ(r.status.code, 3) << r.err;
  EXPECT_EQ(r.out, "exec in vmrt\n");

  r = cli_.run({"ps", "life"});
  ASSERT_TRUE(r.status.success()) << r.err;
  // One process (sleep; the exec has ended), by its pid in the guest.
  EXPECT_THAT(r.out, StartsWith("PID\n"));
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 2) << r.out;
  // JSON is for clients that look the pids up on the host (docker top):
  // the keeper's, which stands for the container there.
  r = cli_.run({"ps", "--format", "json", "life"});
  ASSERT_TRUE(r.status.success()) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out), nlohmann::json({cli_.state("life").value("pid", 0)}))
      << r.out;

  // runc events: one stats event in runc's layout, and a stream of them.
  r = cli_.run({"events", "--stats", "life"});
  ASSERT_TRUE(r.status.success()) << r.err;
  nlohmann::json ev = nlohmann::json::parse(r.out);
  EXPECT_EQ(ev.value("type", ""), "stats") << r.out;
  EXPECT_EQ(ev.value("id", ""), "life");
  EXPECT_EQ(ev["data"]["pids"].value("current", 0), 1) << r.out;
  EXPECT_GT(ev["data"]["memory"]["usage"].value("usage", 0ull), 0u) << r.out;
  EXPECT_GT(ev["data"]["cpu"]["usage"].value("total", 0ull), 0u) << r.out;
  r = cli_.run({"events", "--interval", "0s", "life"});
  EXPECT_THAT(r.err, HasSubstr("interval must be greater than 0"));

  r = cli_.run({"pause", "life"});
  ASSERT_TRUE(r.status.success()) << r.err;
  EXPECT_EQ(cli_.state("life").value("status", ""), "paused");
  r = cli_.run({"exec", "life", "true"});
  EXPECT_THAT(r.err, HasSubstr("it is paused"));
  r = cli_.run({"resume", "life"});
  ASSERT_TRUE(r.status.success()) << r.err;
  EXPECT_EQ(cli_.state("life").value("status", ""), "running");

  r = cli_.run({"kill", "life", "KILL"});
  ASSERT_TRUE(r.status.success()) << r.err;
  EXPECT_EQ(cli_.wait_status("life", "stopped"), "stopped");
  EXPECT_EQ(cli_.state("life").value("pid", -1), 0);
  r = cli_.run({"kill", "life", "KILL"});
  EXPECT_NE(r.status.code, 0);
  r = cli_.run({"events", "--stats", "life"});
  EXPECT_THAT(r.err, HasSubstr("container with id life is not running"));

  r = cli_.run({"delete", "life"});
  EXPECT_TRUE(r.status.success()) << r.err;
  r = cli_.run({"state", "life"});
  EXPECT_NE(r.status.code, 0);
  EXPECT_THAT(r.err, HasSubstr("does not exist"));
}

TEST_F(VmrtRun, DeleteForceEndsARunningContainer) {
  auto b = cli_.bundle("b", {"sleep", "1000"});
  ASSERT_TRUE(cli_.detached_ok({"run", "-d", "-b", b.string(), "f"}));
  EXPECT_EQ(cli_.state("f").value("status", ""), "running");
  RunResult r = cli_.run({"delete", "--force", "f"});
  EXPECT_TRUE(r.status.success()) << r.err;
}

TEST_F(VmrtRun, ListAndStateCarryTheOciStateFields) {
  auto b = cli_.bundle("b", {"sleep", "1000"}, [](nlohmann::json& j) {
    j["annotations"] = {{"org.example.key", "value"}};
  });
  ASSERT_TRUE(cli_.detached_ok({"create", "-b", b.string(), "l1"}));
  RunResult r = cli_.run({"list", "--format", "json"});
  ASSERT_TRUE(r.status.success()) << r.err;
  nlohmann::json list = nlohmann::json::parse(r.out);
  ASSERT_EQ(list.size(), 1u) << r.out;
  for (const nlohmann::json& s : {list[0], cli_.state("l1")}) {
    // The OCI runtime spec's state: required ociVersion, id, status,
    // bundle; pid while created or running; annotations as given.
    EXPECT_TRUE(s["ociVersion"].is_string()) << s;
    EXPECT_EQ(s["id"], "l1");
    EXPECT_EQ(s["status"], "created");
    EXPECT_TRUE(s["pid"].is_number_integer() && s["pid"].get<int>() > 0) << s;
    EXPECT_EQ(s["bundle"], b.string());
    EXPECT_EQ(s["annotations"]["org.example.key"], "value") << s;
  }
  r = cli_.run({"list"});
  EXPECT_THAT(r.out, HasSubstr("ID"));
  EXPECT_THAT(r.out, HasSubstr("created"));
  r = cli_.run({"list", "-q"});
  EXPECT_EQ(r.out, "l1\n");
  EXPECT_TRUE(cli_.run({"delete", "l1"}).status.success());
}

}  // namespace
}  // namespace vmrt::cli::test

namespace vmrt::cli::test {
namespace {

nlohmann::json hook_writing(const std::filesystem::path& file) {
  return {{"path", "/bin/sh"}, {"args", {"sh", "-c", "cat > " + file.string()}}};
}

std::string hook_status(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) return "(hook did not run)";
  return nlohmann::json::parse(in).value("status", "");
}

TEST_F(VmrtRun, RunsOciHooksOnTheHostWithTheState) {
  auto d = cli_.dir();
  auto b = cli_.bundle("b", {"sleep", "1000"}, [&](nlohmann::json& j) {
    j["hooks"]["createRuntime"] = {hook_writing(d / "create-runtime.json")};
    j["hooks"]["prestart"] = {hook_writing(d / "prestart.json")};
    j["hooks"]["poststart"] = {hook_writing(d / "poststart.json")};
    j["hooks"]["poststop"] = {hook_writing(d / "poststop.json")};
  });
  ASSERT_TRUE(cli_.detached_ok({"create", "-b", b.string(), "h"}));
  // As runc: both run while the container is being created.
  EXPECT_EQ(hook_status(d / "create-runtime.json"), "creating");
  EXPECT_EQ(hook_status(d / "prestart.json"), "creating");
  ASSERT_TRUE(cli_.run({"start", "h"}).status.success());
  EXPECT_EQ(hook_status(d / "poststart.json"), "running");
  ASSERT_TRUE(cli_.run({"delete", "--force", "h"}).status.success());
  EXPECT_EQ(hook_status(d / "poststop.json"), "stopped");
}

TEST_F(VmrtRun, AFailingPrestartHookFailsCreate) {
  auto b = cli_.bundle("b", {"true"}, [](nlohmann::json& j) {
    j["hooks"]["prestart"] = {
        {{"path", "/bin/sh"}, {"args", {"sh", "-c", "echo no way >&2; exit 3"}}}};
  });
  RunResult r = cli_.run_detached({"create", "-b", b.string(), "hf"});
  EXPECT_NE(r.status.code, 0);
  EXPECT_THAT(r.err, HasSubstr("prestart hook 0"));
  EXPECT_THAT(r.err, HasSubstr("no way"));
}

}  // namespace
}  // namespace vmrt::cli::test

namespace vmrt::cli::test {
namespace {

TEST_F(VmrtRun, AContainerWhoseVmmDiedIsReportedStopped) {
  auto b = cli_.bundle("b", {"sleep", "1000"});
  ASSERT_TRUE(cli_.detached_ok({"run", "-d", "-b", b.string(), "v"}));
  ASSERT_EQ(::kill(cli_.recorded_pid("v", "vmm"), SIGKILL), 0);
  EXPECT_EQ(cli_.wait_status("v", "stopped"), "stopped");
  std::ifstream in(cli_.root() / "v" / "state.json");
  nlohmann::json record = nlohmann::json::parse(in);
  EXPECT_EQ(record.value("exit_status", 0), 255);
  EXPECT_THAT(record.value("error", ""), HasSubstr("vmrt-vmm killed by signal 9"));
  RunResult r = cli_.run({"delete", "v"});
  EXPECT_TRUE(r.status.success()) << r.err;
}

TEST_F(VmrtRun, AContainerWhoseKeeperDiedIsReportedStoppedAndItsVmGoesToo) {
  auto b = cli_.bundle("b", {"sleep", "1000"});
  ASSERT_TRUE(cli_.detached_ok({"run", "-d", "-b", b.string(), "k"}));
  pid_t vmm = cli_.recorded_pid("k", "vmm");
  ASSERT_EQ(::kill(cli_.recorded_pid("k", "keeper"), SIGKILL), 0);
  EXPECT_EQ(cli_.wait_status("k", "stopped"), "stopped");
  // The VMM dies with its keeper (parent-death signal), taking the mounts.
  auto gone = [vmm] {
    std::ifstream stat("/proc/" + std::to_string(vmm) + "/stat");
    std::string line;
    if (!std::getline(stat, line)) return true;
    return line.substr(line.rfind(')') + 2, 1) == "Z";  // a zombie is gone too
  };
  for (int i = 0; i < 100 && !gone(); ++i) std::this_thread::sleep_for(100ms);
  EXPECT_TRUE(gone());
  RunResult r = cli_.run({"delete", "k"});
  EXPECT_TRUE(r.status.success()) << r.err;
}

}  // namespace
}  // namespace vmrt::cli::test
