// The real vmrt-vmm, booted on a tiny payload, runs every thread under a
// seccomp filter: /proc/<pid>/task/*/status says "Seccomp: 2" (filter mode)
// with at least one filter, for the main thread, each vCPU and the device
// control thread; control requests and SIGTERM still work confined; and
// --seccomp=off leaves the threads unconfined.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>

#include "common/fd.h"
#include "common/fd_io.h"
#include "common/process.h"
#include "common/tempdir.h"
#include "common/unix_socket.h"
#include "tests/kvm/payload.h"
#include "tests/kvm/vmm_process.h"
#include "tests/unit/vmm/boot/boot_images.h"

namespace vmrt::vmm {
namespace {

using namespace std::chrono_literals;
using test::control;
using test::slurp;

// "Seccomp" and "Seccomp_filters" of one thread's status, by thread name.
struct ThreadSeccomp {
  std::string mode;
  int filters = -1;
};

std::multimap<std::string, ThreadSeccomp> threads_of(pid_t pid) {
  std::multimap<std::string, ThreadSeccomp> out;
  for (const auto& task : std::filesystem::directory_iterator(std::filesystem::path("/proc") /
                                                              std::to_string(pid) / "task")) {
    std::string name = slurp(task.path() / "comm");
    if (!name.empty() && name.back() == '\n') name.pop_back();
    // Workers the KVM module attaches to the VM's process (huge page
    // recovery) are kernel threads running no VMM code.
    if (name.starts_with("kvm-")) continue;
    ThreadSeccomp s;
    std::istringstream status(slurp(task.path() / "status"));
    for (std::string line; std::getline(status, line);) {
      if (line.starts_with("Seccomp:\t")) s.mode = line.substr(9);
      if (line.starts_with("Seccomp_filters:\t")) s.filters = std::stoi(line.substr(17));
    }
    out.emplace(name, s);
  }
  return out;
}

class VmmSeccomp : public ::testing::Test {
 protected:
  TempDir dir_{"vmm-seccomp"};
  UniqueFd log_fd_;

  // Starts vmrt-vmm with every device it has a host side for (vsock, fs),
  // waits for the payload's line on the console.
  Subprocess start(const std::string& seccomp, std::vector<std::string> extra = {}) {
    test::write_ready_payload(dir_.path() / "payload.elf");
    std::filesystem::create_directory(dir_.path() / "shared");
    SpawnOptions opts;
    // The payload is no Linux kernel: it runs on a PVM host's KVM too.
    opts.extra_env = {"VMRT_ASSUME_PVM=0"};
    log_fd_ =
        UniqueFd(open((dir_.path() / "vmm.log").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
    opts.err = Stdio::to_fd(log_fd_.get());
    std::vector<std::string> argv = {VMRT_VMM,
                                     "--kernel",
                                     (dir_.path() / "payload.elf").string(),
                                     "--mem",
                                     "32",
                                     "--cpus",
                                     "2",
                                     "--console",
                                     (dir_.path() / "console").string(),
                                     "--control-socket",
                                     (dir_.path() / "control.sock").string(),
                                     "--vsock-socket",
                                     (dir_.path() / "vsock.sock").string(),
                                     "--fs-dir",
                                     (dir_.path() / "shared").string(),
                                     "--seccomp=" + seccomp};
    argv.insert(argv.end(), extra.begin(), extra.end());
    Subprocess vmm = Subprocess::spawn(argv, opts);
    for (int i = 0; i < 300 && slurp(dir_.path() / "console").find("ready") == std::string::npos;
         ++i) {
      if (vmm.wait_for(0ms)) break;
      std::this_thread::sleep_for(50ms);
    }
    return vmm;
  }
  std::string log() { return slurp(dir_.path() / "vmm.log"); }
};

TEST_F(VmmSeccomp, EveryThreadOfTheRunningVmmIsConfined) {
  Subprocess vmm = start("on");
  ASSERT_NE(slurp(dir_.path() / "console").find("ready"), std::string::npos) << log();
  auto threads = threads_of(vmm.pid());
  for (const char* name : {"vmrt-vmm", "vcpu0", "vcpu1", "virtio-ctl"})
    EXPECT_EQ(threads.count(name), 1u) << name;
  for (const auto& [name, s] : threads) {
    EXPECT_EQ(s.mode, "2") << name;
    EXPECT_GE(s.filters, 1) << name;
  }
  // The confined main thread still serves the control socket, pauses and
  // resumes the confined vCPUs, and stops on SIGTERM.
  auto sock = dir_.path() / "control.sock";
  EXPECT_NE(control(sock, R"({"cmd":"info"})").find("\"ok\":true"), std::string::npos) << log();
  EXPECT_NE(control(sock, R"({"cmd":"pause"})").find("paused"), std::string::npos) << log();
  EXPECT_NE(control(sock, R"({"cmd":"resume"})").find("running"), std::string::npos) << log();
  vmm.kill(SIGTERM);
  auto status = vmm.wait_for(20s);
  ASSERT_TRUE(status) << log();
  EXPECT_TRUE(status->success()) << status->to_string() << "\n" << log();
  EXPECT_EQ(log().find("forbidden system call"), std::string::npos) << log();
  EXPECT_FALSE(std::filesystem::exists(sock));
}

// The confined main thread answers "counters" with each device's counters,
// the file server's read from the memory it shares with the VMM.
TEST_F(VmmSeccomp, TheControlSocketReportsEachDevicesCounters) {
  Subprocess vmm = start("on");
  ASSERT_NE(slurp(dir_.path() / "console").find("ready"), std::string::npos) << log();
  auto reply = nlohmann::json::parse(control(dir_.path() / "control.sock", R"({"cmd":"counters"})"),
                                     nullptr, false);
  ASSERT_TRUE(reply.is_object()) << log();
  EXPECT_EQ(reply["ok"], true) << reply.dump();
  const auto& counters = reply["counters"];
  // The payload drives no device: every count is zero.
  EXPECT_EQ(counters["vsock"]["streams_refused"], 0) << reply.dump();
  EXPECT_EQ(counters["vsock"]["resets_sent"], 0) << reply.dump();
  EXPECT_EQ(counters["vsock"]["credit_overruns"], 0) << reply.dump();
  EXPECT_EQ(counters["fs"]["requests"], nlohmann::json::object()) << reply.dump();
  EXPECT_EQ(counters["fs"]["malformed"], 0) << reply.dump();
  EXPECT_FALSE(counters.contains("net")) << reply.dump();  // no tap given
  vmm.kill(SIGTERM);
  auto status = vmm.wait_for(20s);
  ASSERT_TRUE(status) << log();
  EXPECT_TRUE(status->success()) << status->to_string() << "\n" << log();
}

// With a virtio-mem region (and so the virtio-fs relay), the confined VMM
// answers "memory", sets the requested size and counts the device.
TEST_F(VmmSeccomp, TheControlSocketResizesHotplugMemory) {
  Subprocess vmm = start("on", {"--hotplug-mib", "256"});
  ASSERT_NE(slurp(dir_.path() / "console").find("ready"), std::string::npos) << log();
  auto sock = dir_.path() / "control.sock";
  auto ask = [&](const std::string& line) {
    return nlohmann::json::parse(control(sock, line), nullptr, false);
  };
  EXPECT_EQ(ask(R"({"cmd":"memory"})"), (nlohmann::json{{"ok", true},
                                                        {"region_mib", 256},
                                                        {"block_mib", 2},
                                                        {"requested_mib", 0},
                                                        {"plugged_mib", 0}}))
      << log();
  nlohmann::json set = ask(R"({"cmd":"memory","requested_mib":128})");
  EXPECT_EQ(set["requested_mib"], 128) << set.dump();
  EXPECT_EQ(set["plugged_mib"], 0) << set.dump();  // the payload has no driver
  nlohmann::json bad = ask(R"({"cmd":"memory","requested_mib":257})");
  EXPECT_EQ(bad["ok"], false) << bad.dump();
  EXPECT_EQ(ask(R"({"cmd":"memory"})")["requested_mib"], 128);
  nlohmann::json counters = ask(R"({"cmd":"counters"})");
  EXPECT_EQ(counters["counters"]["mem"]["plugged_bytes"], 0) << counters.dump();
  vmm.kill(SIGTERM);
  auto status = vmm.wait_for(20s);
  ASSERT_TRUE(status) << log();
  EXPECT_TRUE(status->success()) << status->to_string() << "\n" << log();
  EXPECT_EQ(log().find("forbidden system call"), std::string::npos) << log();
}

TEST_F(VmmSeccomp, OffLeavesTheThreadsUnconfined) {
  Subprocess vmm = start("off");
  ASSERT_NE(slurp(dir_.path() / "console").find("ready"), std::string::npos) << log();
  for (const auto& [name, s] : threads_of(vmm.pid())) EXPECT_EQ(s.mode, "0") << name;
  vmm.kill(SIGTERM);
  auto status = vmm.wait_for(20s);
  ASSERT_TRUE(status);
  EXPECT_TRUE(status->success()) << status->to_string();
}

}  // namespace
}  // namespace vmrt::vmm
