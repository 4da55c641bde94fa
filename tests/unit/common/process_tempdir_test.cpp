#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include "common/error.h"
#include "common/process.h"
#include "common/tempdir.h"
#include "tests/support/error_text.h"

namespace vmrt {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

TEST(TempDir, IsRemovedWithItsContentsButNotWhatSymlinksPointTo) {
  TempDir outside("vmrt-test-outside");
  std::ofstream(outside.path() / "keep") << "x";
  fs::path inner;
  {
    TempDir dir("vmrt-test");
    inner = dir.path();
    fs::create_directories(inner / "a/b");
    std::ofstream(inner / "a/b/file") << "data";
    fs::create_directory_symlink(outside.path(), inner / "link");
    EXPECT_TRUE(fs::is_directory(inner));
  }
  EXPECT_FALSE(fs::exists(inner));
  EXPECT_TRUE(fs::exists(outside.path() / "keep")) << "removal followed a symlink out of the tree";
}

TEST(TempDir, ReleaseKeepsTheDirectory) {
  fs::path kept;
  {
    TempDir dir("vmrt-test");
    kept = dir.release();
  }
  EXPECT_TRUE(fs::is_directory(kept));
  fs::remove_all(kept);
}

TEST(Subprocess, ReportsExitCodesAndSignals) {
  EXPECT_EQ(Subprocess::spawn({"sh", "-c", "exit 3"}).wait().describe(), "exited with status 3");
  Subprocess p = Subprocess::spawn({"sleep", "30"});
  p.kill(SIGTERM);
  ExitStatus s = p.wait();
  EXPECT_FALSE(s.exited);
  EXPECT_EQ(s.signal, SIGTERM);
}

TEST(Subprocess, AMissingProgramIsAnErrorNamingIt) {
  EXPECT_NE(test::error_text([] {
              Subprocess::spawn({"/nonexistent/tool", "x"});
            }).find("/nonexistent/tool"),
            std::string::npos);
}

TEST(Subprocess, DestructorKillsAndReapsARunningChild) {
  pid_t pid;
  {
    Subprocess p = Subprocess::spawn({"sleep", "30"});
    pid = p.pid();
  }
  EXPECT_EQ(waitpid(pid, nullptr, WNOHANG), -1) << "child not reaped";
  EXPECT_EQ(kill(pid, 0), -1);
}

TEST(Subprocess, WaitForTimesOutOnARunningChild) {
  Subprocess p = Subprocess::spawn({"sleep", "30"});
  EXPECT_FALSE(p.wait_for(50ms));
}

TEST(RunCapture, CollectsBothStreamsAndEnvironment) {
  RunResult r =
      run_capture({"sh", "-c", "echo out-$VMRT_X; echo err >&2; exit 4"}, 10s, {{"VMRT_X=1"}});
  EXPECT_EQ(r.out, "out-1\n");
  EXPECT_EQ(r.err, "err\n");
  EXPECT_EQ(r.status.code, 4);
  EXPECT_FALSE(r.timed_out);
}

TEST(RunCapture, KillsAChildThatOutlivesTheTimeout) {
  RunResult r = run_capture({"sleep", "30"}, 100ms);
  EXPECT_TRUE(r.timed_out);
  EXPECT_EQ(r.status.signal, SIGKILL);
}

}  // namespace
}  // namespace vmrt
