// vmrt with a terminal through --console-socket, and vmrt refusing bad input
// with a clear message, a non-zero exit and nothing left behind.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "common/fd.h"
#include "common/unix_socket.h"
#include "tests/rig/tools/vmrt/vmrt_cli.h"

namespace vmrt::cli::test {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using namespace std::chrono_literals;

// Receives the one descriptor runc's console-socket protocol sends.
UniqueFd receive_fd(int listener) {
  UniqueFd conn = accept_unix(listener);
  char name[256];
  UniqueFd fd;
  receive_with_fd(conn.get(), name, sizeof name, &fd);
  return fd;
}

TEST(VmrtTerminal, ConsoleSocketReceivesAWorkingTerminal) {
  VmrtCli cli;
  auto b = cli.bundle("b", {"sh", "-c", "tty; stty size; read line; echo got $line"},
                      [](nlohmann::json& j) { j["process"]["terminal"] = true; });
  auto sock = cli.dir() / "console.sock";
  UniqueFd listener = listen_unix(sock);
  UniqueFd master;
  std::thread receiver([&] { master = receive_fd(listener.get()); });
  RunResult r =
      cli.run_detached({"create", "-b", b.string(), "--console-socket", sock.string(), "tty"});
  receiver.join();
  ASSERT_TRUE(r.status.success()) << r.err;
  ASSERT_TRUE(master);
  winsize ws{};
  ws.ws_row = 30;
  ws.ws_col = 100;
  ASSERT_EQ(::ioctl(master.get(), TIOCSWINSZ, &ws), 0);
  std::this_thread::sleep_for(500ms);  // the resize travels to the guest
  ASSERT_TRUE(cli.run({"start", "tty"}).status.success());
  std::string out = read_until(master.get(), "30 100", 120s);
  EXPECT_THAT(out, HasSubstr("/dev/pts/"));
  EXPECT_THAT(out, HasSubstr("30 100"));
  ASSERT_EQ(::write(master.get(), "hello\r", 6), 6);
  out = read_until(master.get(), "got hello", 60s);
  EXPECT_THAT(out, HasSubstr("got hello"));
  EXPECT_EQ(cli.wait_status("tty", "stopped"), "stopped");
  EXPECT_TRUE(cli.run({"delete", "tty"}).status.success());
  master.reset();
  EXPECT_THAT(cli.leftovers(), IsEmpty());
}

TEST(VmrtTerminal, DetachedTerminalWithoutConsoleSocketIsRefused) {
  VmrtCli cli;
  auto b = cli.bundle("b", {"sh"}, [](nlohmann::json& j) { j["process"]["terminal"] = true; });
  RunResult r = cli.run_detached({"create", "-b", b.string(), "t"});
  EXPECT_NE(r.status.code, 0);
  EXPECT_THAT(r.err, HasSubstr("--console-socket"));
  EXPECT_THAT(cli.leftovers(), IsEmpty());
}

struct BadInput {
  const char* name;
  std::function<std::vector<std::string>(VmrtCli&)> args;
  const char* message;
};

class VmrtBadInput : public ::testing::TestWithParam<BadInput> {};

TEST_P(VmrtBadInput, FailsClearlyAndLeavesNothing) {
  VmrtCli cli;
  std::vector<std::string> args = GetParam().args(cli);
  RunResult r = cli.run(args, "", 120s);
  EXPECT_FALSE(r.timed_out);
  EXPECT_NE(r.status.code, 0) << r.out;
  EXPECT_TRUE(r.status.exited) << r.status.to_string();  // an error, not a crash
  EXPECT_THAT(r.err, HasSubstr(GetParam().message));
  EXPECT_THAT(cli.leftovers(), IsEmpty());
}

std::vector<std::string> run_bundle(const std::filesystem::path& b) {
  return {"run", "-b", b.string(), "bad"};
}

// A copy of the build tree's configuration with `key` pointing nowhere.
std::string broken_config(VmrtCli& cli, const std::string& key) {
  std::ifstream in(VMRT_DEV_CONFIG);
  std::string text((std::istreambuf_iterator<char>(in)), {}), out, line;
  std::istringstream lines(text);
  while (std::getline(lines, line))
    out += (line.rfind(key + " ", 0) == 0 ? key + " = '/nonexistent/" + key + "'" : line) + "\n";
  auto path = cli.dir() / "broken.toml";
  std::ofstream(path) << out;
  return path.string();
}

INSTANTIATE_TEST_SUITE_P(
    Cases, VmrtBadInput,
    ::testing::Values(
        BadInput{"MissingBundle", [](VmrtCli& cli) { return run_bundle(cli.dir() / "nowhere"); },
                 "no such directory"},
        BadInput{"NoConfigJson",
                 [](VmrtCli& cli) {
                   auto b = cli.bundle("b", {"true"});
                   std::filesystem::remove(b / "config.json");
                   return run_bundle(b);
                 },
                 "config.json"},
        BadInput{"InvalidJson",
                 [](VmrtCli& cli) {
                   auto b = cli.bundle("b", {"true"});
                   std::ofstream(b / "config.json") << "{\"ociVersion\": ";
                   return run_bundle(b);
                 },
                 "config.json"},
        BadInput{"RootfsMissing",
                 [](VmrtCli& cli) {
                   auto b = cli.bundle("b", {"true"});
                   std::filesystem::remove_all(b / "rootfs");
                   return run_bundle(b);
                 },
                 "rootfs"},
        BadInput{
            "EmptyArgs",
            [](VmrtCli& cli) { return run_bundle(cli.bundle("b", std::vector<std::string>{})); },
            "process.args"},
        BadInput{"UnknownFlag",
                 [](VmrtCli&) {
                   return std::vector<std::string>{"run", "--no-such-flag", "x"};
                 },
                 "--no-such-flag"},
        BadInput{"BadId",
                 [](VmrtCli& cli) {
                   auto b = cli.bundle("b", {"true"});
                   return std::vector<std::string>{"run", "-b", b.string(), "../escape"};
                 },
                 "../escape"},
        BadInput{"KernelMissing",
                 [](VmrtCli& cli) {
                   auto b = cli.bundle("b", {"true"});
                   return std::vector<std::string>{
                       "--config", broken_config(cli, "kernel"), "run", "-b", b.string(), "k"};
                 },
                 "/nonexistent/kernel"},
        BadInput{"ImageMissing",
                 [](VmrtCli& cli) {
                   auto b = cli.bundle("b", {"true"});
                   return std::vector<std::string>{
                       "--config", broken_config(cli, "image"), "run", "-b", b.string(), "i"};
                 },
                 "/nonexistent/image"},
        // Refused by the agent inside a booted VM: the sandbox is torn down.
        BadInput{"RefusedInsideTheVm",
                 [](VmrtCli& cli) {
                   return run_bundle(cli.bundle("b", {"true"}, [](nlohmann::json& j) {
                     j["linux"]["namespaces"].push_back({{"type", "user"}});
                   }));
                 },
                 "agent: CreateContainer"},
        BadInput{"StateOfUnknownContainer",
                 [](VmrtCli&) {
                   return std::vector<std::string>{"state", "nobody"};
                 },
                 "does not exist"},
        BadInput{"UnknownSignal",
                 [](VmrtCli&) {
                   return std::vector<std::string>{"kill", "nobody", "SIGFOO"};
                 },
                 "SIGFOO"}),
    [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace vmrt::cli::test
