#include "common/process.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>

#include "common/error.h"
#include "tests/support/error_text.h"

namespace vmrt {
namespace {

using namespace std::chrono_literals;

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
