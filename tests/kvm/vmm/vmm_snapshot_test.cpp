// The real vmrt-vmm, confined, snapshots a running payload on its control
// socket's command (--snapshot-dir) and another vmrt-vmm restores it
// (--restore, jailed as a sandbox's): what a VM template is made of. A
// corrupt or mismatched snapshot is refused with an error naming the check.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "common/fd.h"
#include "common/process.h"
#include "common/tempdir.h"
#include "common/vmm_exit_status.h"
#include "tests/kvm/vmm_process.h"

namespace vmrt::vmm {
namespace {

using namespace std::chrono_literals;
using test::control;
using test::slurp;
using ::testing::HasSubstr;
namespace fs = std::filesystem;

class VmmSnapshot : public ::testing::Test {
 protected:
  void SetUp() override {
    test::write_ready_payload(dir_.path() / "payload.elf");
    fs::create_directories(dir_.path() / "shared");
    fs::create_directories(snap());
  }
  fs::path snap() const { return dir_.path() / "snap"; }

  // vmrt-vmm with the devices a sandbox has (vsock, fs), confined;
  // `args` say boot or restore. Its log goes to NAME.log.
  Subprocess spawn(const std::string& name, std::vector<std::string> args,
                   const std::string& mem = "32") {
    std::vector<std::string> argv = {VMRT_VMM,
                                     "--mem",
                                     mem,
                                     "--console",
                                     (dir_.path() / (name + ".console")).string(),
                                     "--control-socket",
                                     (dir_.path() / (name + ".sock")).string(),
                                     "--vsock-socket",
                                     (dir_.path() / (name + ".vsock")).string(),
                                     "--fs-dir",
                                     (dir_.path() / "shared").string(),
                                     "--seccomp=on"};
    argv.insert(argv.end(), cpus_.begin(), cpus_.end());
    argv.insert(argv.end(), args.begin(), args.end());
    SpawnOptions o;
    o.extra_env = {"VMRT_ASSUME_PVM=0"};  // a payload, not Linux: runs on PVM too
    UniqueFd log(::open((dir_.path() / (name + ".log")).c_str(),
                        O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    o.out = Stdio::to_fd(log.get());
    o.err = Stdio::to_fd(log.get());
    return Subprocess::spawn(argv, o);
  }
  std::string log(const std::string& name) { return slurp(dir_.path() / (name + ".log")); }

  // Boots the payload, waits for its line, snapshots it, stops it.
  void make_snapshot(const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args = {"--kernel", (dir_.path() / "payload.elf").string(),
                                     "--snapshot-dir", snap().string()};
    args.insert(args.end(), extra.begin(), extra.end());
    Subprocess vmm = spawn("template", args);
    for (int i = 0;
         i < 300 && slurp(dir_.path() / "template.console").find("ready") == std::string::npos;
         ++i) {
      if (vmm.wait_for(0ms)) break;
      std::this_thread::sleep_for(50ms);
    }
    ASSERT_THAT(slurp(dir_.path() / "template.console"), HasSubstr("ready")) << log("template");
    std::string reply = control(dir_.path() / "template.sock", R"({"cmd":"snapshot"})");
    EXPECT_THAT(reply, HasSubstr(R"("ok":true)")) << reply << log("template");
    EXPECT_THAT(reply, HasSubstr("paused"));
    vmm.kill(SIGTERM);
    auto status = vmm.wait_for(20s);
    ASSERT_TRUE(status) << log("template");
    EXPECT_TRUE(status->success()) << status->to_string() << "\n" << log("template");
    EXPECT_THAT(log("template"), ::testing::Not(HasSubstr("forbidden system call")));
  }

  // Restores with `mem` MiB of RAM; the exit status when it ended within
  // a few seconds (a refused snapshot), nullopt when it ran.
  std::optional<ExitStatus> restore(const std::string& mem = "32",
                                    const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args = {"--restore", snap().string()};
    args.insert(args.end(), extra.begin(), extra.end());
    Subprocess vmm = spawn("restored", args, mem);
    for (int i = 0; i < 100 && !fs::exists(dir_.path() / "restored.sock"); ++i) {
      if (auto s = vmm.wait_for(0ms)) return s;
      std::this_thread::sleep_for(50ms);
    }
    std::string info = control(dir_.path() / "restored.sock", R"({"cmd":"info"})");
    // A refused snapshot is found after the control socket exists, which
    // goes again as the VMM ends: no answer then means it ended.
    if (info.empty())
      if (auto s = vmm.wait_for(5s)) return s;
    EXPECT_THAT(info, HasSubstr(R"("state":"running")")) << info << log("restored");
    last_info_ = info;
    std::this_thread::sleep_for(200ms);  // it keeps running
    EXPECT_FALSE(vmm.wait_for(0ms)) << log("restored");
    vmm.kill(SIGTERM);
    auto status = vmm.wait_for(20s);
    EXPECT_TRUE(status && status->success()) << log("restored");
    return std::nullopt;
  }

  TempDir dir_{"vmm-snapshot"};
  std::vector<std::string> cpus_ = {"--cpus", "2"};
  std::string last_info_;  // the restored VMM's answer to "info"
};

TEST_F(VmmSnapshot, AConfinedVmmSnapshotsAndAnotherRestoresIt) {
  ASSERT_NO_FATAL_FAILURE(make_snapshot());
  EXPECT_EQ(fs::file_size(snap() / "memory"), 32u << 20);
  EXPECT_GT(fs::file_size(snap() / "state"), 0u);
  EXPECT_EQ(restore(), std::nullopt) << log("restored");
  EXPECT_THAT(log("restored"), HasSubstr("vm restored from"));
  EXPECT_THAT(log("restored"), ::testing::Not(HasSubstr("forbidden system call")));
}

// A template with a virtio-mem device (nothing plugged) restores into a VM
// with the same hotplug region, and only into one.
TEST_F(VmmSnapshot, AVmWithHotplugMemoryRestoresWithTheSameRegion) {
  ASSERT_NO_FATAL_FAILURE(make_snapshot({"--hotplug-mib", "256"}));
  // The memory file holds boot RAM only.
  EXPECT_EQ(fs::file_size(snap() / "memory"), 32u << 20);
  EXPECT_EQ(restore("32", {"--hotplug-mib", "256"}), std::nullopt) << log("restored");
  EXPECT_THAT(log("restored"), HasSubstr("vm restored from"));
  auto s = restore("32", {"--hotplug-mib", "128"});
  ASSERT_TRUE(s) << log("restored");
  EXPECT_EQ(s->code, vmm_exit::kSnapshotUnusable);
  EXPECT_THAT(log("restored"), HasSubstr("hotplug region is 256 MiB"));
  s = restore("32");
  ASSERT_TRUE(s) << log("restored");
  EXPECT_EQ(s->code, vmm_exit::kSnapshotUnusable);
  EXPECT_THAT(log("restored"), HasSubstr("virtio-mem"));
}

TEST_F(VmmSnapshot, ACorruptOrMismatchedSnapshotIsRefused) {
  ASSERT_NO_FATAL_FAILURE(make_snapshot());
  // A restore that fails on something else (here a tap fd that is not
  // open) is a setup error: the sandbox keeps a template for that.
  auto s = restore("32", {"--net-tap-fd", "999"});
  ASSERT_TRUE(s) << log("restored");
  EXPECT_EQ(s->code, vmm_exit::kSetupError) << log("restored");
  // Another memory size than the snapshot's.
  s = restore("64");
  ASSERT_TRUE(s) << log("restored");
  EXPECT_EQ(s->code, vmm_exit::kSnapshotUnusable);
  EXPECT_THAT(log("restored"), HasSubstr("memory"));
  // A flipped byte in the state's payload.
  fs::path state = snap() / "state";
  std::string bytes = slurp(state);
  bytes[bytes.size() / 2] = static_cast<char>(bytes[bytes.size() / 2] ^ 0x5a);
  std::ofstream(state, std::ios::binary | std::ios::trunc) << bytes;
  s = restore();
  ASSERT_TRUE(s) << log("restored");
  EXPECT_EQ(s->code, vmm_exit::kSnapshotUnusable);
  EXPECT_THAT(log("restored"), HasSubstr("CRC"));
  // No snapshot at all.
  fs::remove(state);
  s = restore();
  ASSERT_TRUE(s);
  EXPECT_EQ(s->code, vmm_exit::kSnapshotUnusable);
  EXPECT_THAT(log("restored"), HasSubstr("snapshot state"));
  // A VMM without --snapshot-dir refuses the command.
  EXPECT_FALSE(fs::exists(dir_.path() / "restored.sock"));
}

// A template VM that boots 1 of its 3 vCPUs (the others to be onlined
// later) restores only into a VMM with as many vCPUs.
TEST_F(VmmSnapshot, AVmWithVcpusToOnlineRestoresOnlyWithAsMany) {
  cpus_ = {"--cpus", "1", "--max-cpus", "3"};
  ASSERT_NO_FATAL_FAILURE(make_snapshot());
  EXPECT_THAT(log("template"), HasSubstr("cpus=1 max_cpus=3"));
  cpus_ = {"--cpus", "1", "--max-cpus", "2"};
  auto s = restore();
  ASSERT_TRUE(s) << log("restored");
  EXPECT_EQ(s->code, vmm_exit::kSnapshotUnusable);
  EXPECT_THAT(log("restored"),
              HasSubstr("the snapshot has 3 vCPUs but this VM was created with 2"));
  cpus_ = {"--cpus", "1", "--max-cpus", "3"};
  EXPECT_EQ(restore(), std::nullopt) << log("restored");
  EXPECT_THAT(log("restored"), HasSubstr("vm restored from"));
  // The two vCPUs never started made no exit.
  EXPECT_THAT(last_info_, HasSubstr(R"("max_cpus":3)"));
  EXPECT_THAT(last_info_, ::testing::MatchesRegex(R"(.*"vcpu_exits":\[[0-9]+,0,0\].*)"))
      << last_info_;
}

}  // namespace
}  // namespace vmrt::vmm
