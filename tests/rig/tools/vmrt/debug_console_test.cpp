// vmrt debug-console in a real sandbox VM: refused by the CLI with the
// default configuration and by the guest's agent when the sandbox was
// created without it; once both allow it, a shell with the guest's root
// view, outside the container, fed a script on stdin.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <regex>
#include <string>

#include "common/fd.h"
#include "common/process.h"
#include "tests/rig/support/host_state.h"
#include "tests/rig/tools/vmrt/vmrt_cli.h"

namespace vmrt::cli::test {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using vmrt::test::read_text;

// Shell builtins only: the debug image's /bin/sh is busybox with no other
// applet linked. In the container (its own pid namespace) pid 1 is sleep;
// in the guest it is the agent, /init.
constexpr const char* kScript =
    "read comm < /proc/1/comm; echo pid1=$comm\n"
    "test -x /init && echo guest-init-here\n"
    "echo shell-pid=$$\n";

class VmrtDebugConsole : public ::testing::Test {
 protected:
  void TearDown() override {
    if (!HasFailure()) {
      EXPECT_THAT(cli_.leftovers(), IsEmpty());
    }
  }
  // The build tree's configuration with `image` instead of its image (when
  // given), no VM templates and `[debug] console` as `console`.
  void use_config(bool console, const std::string& image = "") {
    std::string text = read_text(VMRT_DEV_CONFIG);
    if (!image.empty())
      text = std::regex_replace(text, std::regex("\nimage = [^\n]*\n"),
                                "\nimage = \"" + image + "\"\n");
    fs::path config = cli_.dir() / "config.toml";
    std::ofstream(config) << text
                          << "template = false\n[debug]\nconsole = " << (console ? "true" : "false")
                          << "\n";
    cli_.set_config(config);
  }
  void run_sleeper(const std::string& id) {
    fs::path b = cli_.bundle(id, {"sleep", "1000"});
    ASSERT_TRUE(cli_.detached_ok({"run", "-d", "-b", b.string(), id}));
  }
  VmrtCli cli_;
};

TEST_F(VmrtDebugConsole, IsRefusedByTheCliAndByTheAgentUnlessAllowed) {
  run_sleeper("dc");  // the build's configuration: no [debug] table
  RunResult r = cli_.run({"debug-console", "dc"}, kScript);
  EXPECT_TRUE(r.status.exited);
  EXPECT_EQ(r.status.code, 1) << r.err;
  EXPECT_THAT(r.err, HasSubstr("debug console is off"));
  EXPECT_THAT(r.out, Not(HasSubstr("pid1=")));

  // The operator turns it on now: the sandbox was created without it, and
  // its agent still refuses.
  use_config(true);
  r = cli_.run({"debug-console", "dc"}, kScript);
  EXPECT_EQ(r.status.code, 1) << r.err;
  EXPECT_THAT(r.err, HasSubstr("debug console is off in this sandbox"));
  EXPECT_THAT(r.out, Not(HasSubstr("pid1=")));
  EXPECT_EQ(cli_.state("dc")["status"], "running") << "the container is untouched";
  EXPECT_TRUE(cli_.run({"delete", "--force", "dc"}).status.success());
}

TEST_F(VmrtDebugConsole, GivesAShellInTheGuestOutsideTheContainer) {
  if (std::string(VMRT_DEBUG_IMAGE).empty()) GTEST_SKIP() << "no busybox, so no debug image";
  use_config(true, VMRT_DEBUG_IMAGE);
  run_sleeper("dc");
  RunResult r = cli_.run({"debug-console", "dc"}, kScript);
  EXPECT_TRUE(r.status.success()) << r.status.to_string() << "\n" << r.err;
  EXPECT_THAT(r.out, HasSubstr("pid1=init\n")) << "the guest's pid namespace";
  EXPECT_THAT(r.out, HasSubstr("guest-init-here\n")) << "the guest's root";
  EXPECT_THAT(r.out, HasSubstr("shell-pid="));
  // The container's own exec still sees the container.
  r = cli_.run({"exec", "dc", "sh", "-c", "read comm < /proc/1/comm; echo pid1=$comm"});
  EXPECT_TRUE(r.status.success()) << r.err;
  EXPECT_EQ(r.out, "pid1=sleep\n");
  EXPECT_EQ(cli_.state("dc")["status"], "running");
  EXPECT_TRUE(cli_.run({"delete", "--force", "dc"}).status.success());
}

// Interactive: the CLI's stdin is a terminal, so the shell gets one in the
// guest, and its exit status comes back.
TEST_F(VmrtDebugConsole, IsInteractiveOnATerminal) {
  if (std::string(VMRT_DEBUG_IMAGE).empty()) GTEST_SKIP() << "no busybox, so no debug image";
  use_config(true, VMRT_DEBUG_IMAGE);
  run_sleeper("dc");
  UniqueFd master(::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC));
  ASSERT_TRUE(master);
  ASSERT_EQ(::grantpt(master.get()), 0);
  ASSERT_EQ(::unlockpt(master.get()), 0);
  UniqueFd slave(::open(::ptsname(master.get()), O_RDWR | O_NOCTTY | O_CLOEXEC));
  ASSERT_TRUE(slave);
  SpawnOptions o;
  o.extra_env = {"VMRT_CONFIG=" + cli_.config().string()};
  o.in = o.out = o.err = Stdio::to_fd(slave.get());
  Subprocess console =
      Subprocess::spawn({VMRT_CLI, "--root", cli_.root().string(), "debug-console", "dc"}, o);
  slave.reset();
  // Typed ahead: the terminal keeps it until the shell reads.
  const char typed[] = "tty; exit 4\r";
  ASSERT_EQ(::write(master.get(), typed, sizeof typed - 1), ssize_t(sizeof typed - 1));
  EXPECT_THAT(read_until(master.get(), "/dev/pts/", std::chrono::seconds(120)),
              HasSubstr("/dev/pts/"));
  std::optional<ExitStatus> status = console.wait_for(std::chrono::seconds(120));
  ASSERT_TRUE(status);
  EXPECT_TRUE(status->exited);
  EXPECT_EQ(status->code, 4);
  EXPECT_TRUE(cli_.run({"delete", "--force", "dc"}).status.success());
}

}  // namespace
}  // namespace vmrt::cli::test
