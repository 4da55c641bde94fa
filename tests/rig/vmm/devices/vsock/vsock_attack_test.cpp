// A hostile guest against vmrt-vmm's vsock device, with a real guest kernel
// inside tools/testvm: the guest's root unbinds the device's driver and drives
// its registers itself (guest_attack.c, VMRT_TEST_ACTION=attack) with
// descriptors outside guest RAM, wrapping, looping and out-of-range chains,
// an avail index far past the queue, rings outside RAM and data past the
// credit it was given; then it hands the device back to its kernel and opens
// 2000 streams to the host. Each malformed ring must put the device into
// NEEDS_RESET (and nothing else), the credit breach must reset the stream,
// the flood must stop at the VMM's stream limit, and through all of it the
// VMM must stay up, inside its memory bound, and keep serving the guest.
#include <fcntl.h>
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <regex>
#include <sstream>
#include <thread>
#include <vector>

#include "common/fd_io.h"
#include "common/hybrid_vsock.h"
#include "common/process.h"
#include "common/tempdir.h"
#include "common/unix_socket.h"
#include "tests/rig/support/host_state.h"
#include "tests/support/proc_status.h"

namespace vmrt {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using vmrt::test::read_text;

constexpr uint32_t kEchoPort = 5000;
constexpr int kGuestMib = 256;

// Accepts every stream on `path` and keeps it open, never reading: the
// host peer a hostile guest would like to pile data up against.
class HoldingListener {
 public:
  explicit HoldingListener(const std::string& path) : fd_(listen_unix(path, 1024)) {
    thread_ = std::thread([this] {
      while (!stop_) {
        pollfd p{fd_.get(), POLLIN, 0};
        if (::poll(&p, 1, 100) <= 0) continue;
        int c = ::accept4(fd_.get(), nullptr, nullptr, SOCK_CLOEXEC);
        if (c >= 0) held_.emplace_back(c);
      }
    });
  }
  ~HoldingListener() {
    stop_ = true;
    thread_.join();
  }
  size_t accepted() const { return held_.size(); }

 private:
  UniqueFd fd_;
  std::atomic<bool> stop_{false};
  std::vector<UniqueFd> held_;  // touched only by the thread until join
  std::thread thread_;
};

// "VMRT_ATTACK <name> <outcome>" from the console, or "" when absent.
std::string outcome(const std::string& console, const std::string& name) {
  std::smatch m;
  std::regex line("VMRT_ATTACK " + name + " ([^\r\n]*)");
  return std::regex_search(console, m, line) ? m[1].str() : "";
}

TEST(VsockAttack, HostileDriverIsContainedAndTheVmmKeepsServing) {
  rlimit lim{4096, 4096};
  setrlimit(RLIMIT_NOFILE, &lim);
  TempDir dir("vsock-attack");
  auto vm_socket = dir.path() / "vm.sock";
  auto console_path = dir.path() / "console";
  // Host port 6000: the guest's greeting once it serves again (unread).
  HoldingListener greeting(vm_socket.string() + "_6000");
  HoldingListener credit(vm_socket.string() + "_6001");
  HoldingListener flood(vm_socket.string() + "_6002");

  SpawnOptions opts;
  opts.err =
      Stdio::to_fd(open((dir.path() / "vmm.log").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
  Subprocess vmm =
      Subprocess::spawn({VMRT_VMM, "--kernel", VMRT_GUEST_VMLINUX, "--initrd", VMRT_TEST_INITRAMFS,
                         "--mem", std::to_string(kGuestMib), "--cpus", "1", "--console",
                         console_path.string(), "--vsock-socket", vm_socket.string(), "--cmdline",
                         "console=ttyS0 reboot=k panic=-1 quiet VMRT_TEST_ACTION=attack"},
                        opts);
  std::string console;
  for (int i = 0; i < 6000; ++i) {
    console = read_text(console_path);
    if (console.find("VMRT_VSOCK_READY") != std::string::npos || vmm.wait_for(0ms)) break;
    std::this_thread::sleep_for(100ms);
  }
  std::string log = read_text(dir.path() / "vmm.log");
  ASSERT_THAT(console, HasSubstr("VMRT_ATTACK_DONE")) << console << "\nvmm log:\n" << log;
  ASSERT_EQ(outcome(console, "setup"), "driving") << console;
  // The guest's report, for the record.
  std::istringstream lines(console);
  for (std::string l; std::getline(lines, l);)
    if (l.rfind("VMRT_ATTACK", 0) == 0) std::printf("guest: %s\n", l.c_str());

  // Every malformed ring is refused by asking for a reset, and the device
  // takes a new driver session after each.
  for (const char* ring : {"outside-ram", "wrapping", "loop", "next-out-of-range",
                           "avail-index-jump", "rings-outside-ram"})
    EXPECT_EQ(outcome(console, ring), "needs_reset") << ring << "\n" << console;
  std::string indirect = outcome(console, "indirect-outside-ram");
  EXPECT_TRUE(indirect == "needs_reset" || indirect == "not_offered") << indirect;
  EXPECT_THAT(log, HasSubstr("needs reset")) << log;

  // Data past the credit: the stream is reset once the 256 KiB the VMM
  // offered (plus what the host socket took) is exceeded, not buffered on.
  std::smatch m;
  std::string credit_lie = outcome(console, "credit-lie");
  ASSERT_TRUE(std::regex_match(credit_lie, m, std::regex("rst_after_kib=(\\d+)"))) << credit_lie;
  EXPECT_LT(std::stoi(m[1].str()), 8192) << credit_lie;
  EXPECT_EQ(credit.accepted(), 1u);

  // The flood stops at the VMM's stream limit; closed streams free their
  // slots.
  EXPECT_EQ(outcome(console, "rebind"), "ok") << console;
  std::string streams = outcome(console, "stream-flood");
  ASSERT_TRUE(std::regex_match(streams, m, std::regex("ok=(\\d+) refused=(\\d+)"))) << streams;
  int ok = std::stoi(m[1].str());
  EXPECT_GT(ok, 0);
  EXPECT_LE(ok, 512);
  EXPECT_EQ(ok + std::stoi(m[2].str()), 2000);
  EXPECT_EQ(outcome(console, "stream-after-flood"), "ok") << console;

  // Still up, still serving: an echo through the guest's own driver.
  ASSERT_FALSE(vmm.wait_for(0ms)) << "the VMM died:\n" << read_text(dir.path() / "vmm.log");
  UniqueFd echo = hybrid_vsock::connect_vsock(vm_socket, kEchoPort, 60s);
  write_all(echo.get(), "still serving\n");
  auto line = read_line(echo.get(), 100);
  ASSERT_TRUE(line);
  EXPECT_EQ(*line, "still serving");

  // What the VMM ever held: guest RAM plus a bounded overhead, the same
  // bound its jail's cgroup enforces (sandbox/vmm_cgroup).
  long peak_mib = vmrt::test::proc_status_kib(vmm.pid(), "VmHWM") / 1024;
  EXPECT_GT(peak_mib, 0);
  EXPECT_LE(peak_mib, kGuestMib + 64 + kGuestMib / 8);

  vmm.kill(SIGTERM);
  auto st = vmm.wait_for(30s);
  ASSERT_TRUE(st) << "vmrt-vmm ignored SIGTERM";
  EXPECT_TRUE(st->success()) << st->to_string();
  EXPECT_FALSE(std::filesystem::exists(vm_socket));
}

}  // namespace
}  // namespace vmrt
