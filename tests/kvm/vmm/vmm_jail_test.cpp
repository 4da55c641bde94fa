// The real vmrt-vmm on a tiny payload, jailed as the sandbox starts it (a
// pid namespace of its own from the spawner, --jail): it runs as the
// unprivileged uid with no capability, its root holds only what it was
// given (not the share), its mount, IPC and pid namespaces are its own, and
// it still serves its control socket and stops. Its virtio-fs file server
// is its only child: the only process with the file capabilities, in a jail
// of its own holding the share and nothing else, which mounts made later in
// the shared directory reach.
#include <fcntl.h>
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
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
#include "tests/support/proc_status.h"
#include "tests/support/syscall_injection.h"
#include "tests/unit/vmm/boot/boot_images.h"
#include "vmm/security/privileges.h"

namespace vmrt::vmm {
namespace {

using namespace std::chrono_literals;
using test::control;
using test::slurp;
namespace fs = std::filesystem;
using ::testing::HasSubstr;

std::string ns_of(pid_t pid, const char* ns) {
  return fs::read_symlink(fs::path("/proc") / std::to_string(pid) / "ns" / ns).string();
}

class VmmJail : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "a jail needs root";
  }

  // Starts the jailed VMM (with a virtio-fs share when `share`), waits for
  // the payload's line on the console.
  Subprocess start(bool share) {
    test::write_ready_payload(dir_.path() / "payload.elf");
    fs::create_directories(vm_dir());
    fs::create_directories(shared());
    SpawnOptions opts;
    opts.extra_env = {"VMRT_ASSUME_PVM=0"};  // the payload runs on PVM too
    opts.namespaces = CLONE_NEWPID;
    log_fd_ =
        UniqueFd(open((dir_.path() / "vmm.log").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
    opts.err = Stdio::to_fd(log_fd_.get());
    std::vector<std::string> argv = {VMRT_VMM,
                                     "--kernel",
                                     (dir_.path() / "payload.elf").string(),
                                     "--mem",
                                     "32",
                                     "--console",
                                     (vm_dir() / "console").string(),
                                     "--control-socket",
                                     control_socket().string(),
                                     "--vsock-socket",
                                     (vm_dir() / "vsock.sock").string(),
                                     "--jail",
                                     jail().string(),
                                     "--jail-uid",
                                     "65534",
                                     "--jail-gid",
                                     "65533"};
    if (share) argv.insert(argv.end(), {"--fs-dir", shared().string()});
    Subprocess vmm = Subprocess::spawn(argv, opts);
    for (int i = 0; i < 300 && slurp(vm_dir() / "console").find("ready") == std::string::npos;
         ++i) {
      if (vmm.wait_for(0ms)) break;
      std::this_thread::sleep_for(50ms);
    }
    return vmm;
  }
  fs::path vm_dir() const { return dir_.path() / "vm"; }
  fs::path shared() const { return dir_.path() / "shared"; }
  fs::path jail() const { return dir_.path() / "jail"; }
  fs::path control_socket() const { return vm_dir() / "control.sock"; }
  std::string log() { return slurp(dir_.path() / "vmm.log"); }

  void stop(Subprocess& vmm) {
    vmm.kill(SIGTERM);
    auto status = vmm.wait_for(20s);
    ASSERT_TRUE(status) << log();
    EXPECT_TRUE(status->success()) << status->to_string() << "\n" << log();
  }

  TempDir dir_{"vmm-jail"};
  UniqueFd log_fd_;
};

// The identity fields of /proc/<pid>/status every jailed process shares.
void expect_unprivileged(pid_t pid, const std::string& caps) {
  EXPECT_EQ(vmrt::test::proc_status_value(pid, "Uid"), "65534\t65534\t65534\t65534");
  EXPECT_EQ(vmrt::test::proc_status_value(pid, "Gid"), "65533\t65533\t65533\t65533");
  EXPECT_THAT(vmrt::test::proc_status_value(pid, "Groups"), ::testing::MatchesRegex(" *"));
  EXPECT_EQ(vmrt::test::proc_status_value(pid, "CapEff"), caps);
  EXPECT_EQ(vmrt::test::proc_status_value(pid, "CapPrm"), caps);
  EXPECT_EQ(vmrt::test::proc_status_value(pid, "CapBnd"), caps);
  EXPECT_EQ(vmrt::test::proc_status_value(pid, "CapInh"), "0000000000000000");
  EXPECT_EQ(vmrt::test::proc_status_value(pid, "CapAmb"), "0000000000000000");
  EXPECT_EQ(vmrt::test::proc_status_value(pid, "NoNewPrivs"), "1");
  EXPECT_EQ(vmrt::test::proc_status_value(pid, "Seccomp"), "2");
}

pid_t file_server_of(pid_t vmm) {
  std::istringstream children(slurp(fmt::format("/proc/{}/task/{}/children", vmm, vmm)));
  pid_t child = -1;
  children >> child;
  return child;
}

TEST_F(VmmJail, RunsUnprivilegedWithNoCapability) {
  Subprocess vmm = start(true);
  ASSERT_THAT(slurp(vm_dir() / "console"), HasSubstr("ready")) << log();
  pid_t pid = vmm.pid();
  expect_unprivileged(pid, "0000000000000000");
  // Pid 1 of its own pid namespace; its own mount and IPC namespaces.
  EXPECT_EQ(vmrt::test::proc_status_value(pid, "NSpid"), fmt::format("{}\t1", pid));
  for (const char* ns : {"mnt", "ipc", "pid"})
    EXPECT_NE(ns_of(pid, ns), ns_of(::getpid(), ns)) << ns;
  stop(vmm);
}

TEST_F(VmmJail, OnlyItsFileServerHasTheFileCapabilitiesAndTheShare) {
  Subprocess vmm = start(true);
  ASSERT_THAT(slurp(vm_dir() / "console"), HasSubstr("ready")) << log();
  pid_t server = file_server_of(vmm.pid());
  ASSERT_GT(server, 0) << log();
  EXPECT_EQ(slurp(fmt::format("/proc/{}/comm", server)), "vmrt-fs-server\n");
  expect_unprivileged(server, fmt::format("{:016x}", security::file_server_capabilities()));
  // In the VMM's pid namespace, with a mount namespace of its own.
  EXPECT_EQ(ns_of(server, "pid"), ns_of(vmm.pid(), "pid"));
  EXPECT_NE(ns_of(server, "mnt"), ns_of(vmm.pid(), "mnt"));
  fs::path root = fs::path("/proc") / std::to_string(server) / "root";
  EXPECT_TRUE(fs::is_directory(root / shared().relative_path()));
  for (const char* p : {"/dev/kvm", "/etc/passwd", "/usr/bin", "/proc/1"})
    EXPECT_FALSE(fs::exists(root / fs::path(p).relative_path())) << p;
  EXPECT_FALSE(fs::exists(root / vm_dir().relative_path()));
  EXPECT_FALSE(fs::exists(root / (dir_.path() / "payload.elf").relative_path()));
  stop(vmm);
  // It ends with the VMM.
  EXPECT_FALSE(fs::exists(fmt::format("/proc/{}", server)));
}

TEST_F(VmmJail, WithoutAShareThereIsNoFileServer) {
  Subprocess vmm = start(false);
  ASSERT_THAT(slurp(vm_dir() / "console"), HasSubstr("ready")) << log();
  EXPECT_EQ(vmrt::test::proc_status_value(vmm.pid(), "CapEff"), "0000000000000000");
  EXPECT_EQ(file_server_of(vmm.pid()), -1);
  stop(vmm);
}

TEST_F(VmmJail, ItsRootHoldsOnlyWhatItWasGiven) {
  Subprocess vmm = start(true);
  ASSERT_THAT(slurp(vm_dir() / "console"), HasSubstr("ready")) << log();
  fs::path root = fs::path("/proc") / std::to_string(vmm.pid()) / "root";
  auto inside = [&](const fs::path& p) { return root / p.relative_path(); };
  // Given: the kernel, /dev/kvm, the VM directory. Not the share: the file
  // server's jail below it ("fs-server") has that, in its own namespace.
  EXPECT_TRUE(fs::is_regular_file(inside(dir_.path() / "payload.elf")));
  EXPECT_TRUE(fs::is_character_file(inside("/dev/kvm")));
  EXPECT_TRUE(fs::exists(inside(vm_dir() / "console")));
  std::ofstream(shared() / "marker") << "shared";
  EXPECT_TRUE(fs::exists(shared() / "marker"));
  EXPECT_FALSE(fs::exists(inside(shared()) / "marker"));
  EXPECT_FALSE(fs::exists(root / "fs-server" / shared().relative_path() / "marker"));
  // Not given: the host's files, other devices, procfs, the VMM's log.
  for (const char* p : {"/etc/passwd", "/usr/bin", "/dev/null", "/proc/1", "/sys/kernel"})
    EXPECT_FALSE(fs::exists(inside(p))) << p;
  EXPECT_FALSE(fs::exists(inside(dir_.path() / "vmm.log")));
  std::vector<std::string> top;
  for (const auto& e : fs::directory_iterator(root)) top.push_back(e.path().filename().string());
  std::string first = (*dir_.path().relative_path().begin()).string();
  EXPECT_THAT(top, ::testing::UnorderedElementsAre("dev", "proc", first, "fs-server"));
  // Its root is read-only: only the VM directory is writable.
  EXPECT_THAT(slurp(fs::path("/proc") / std::to_string(vmm.pid()) / "mountinfo"),
              ::testing::ContainsRegex("^[0-9]+ [0-9]+ [^ ]+ [^ ]+ / ro,"));
  // The control socket the VMM made in the jail is the host's.
  EXPECT_THAT(control(control_socket(), R"({"cmd":"info"})"), HasSubstr("\"ok\":true")) << log();
  stop(vmm);
  // Without any capability, the VMM cannot remove its sockets from its
  // spawner's directory (root's): the spawner does, as the sandbox does.
  EXPECT_TRUE(fs::is_socket(control_socket()));
}

TEST_F(VmmJail, MountsMadeInTheShareLaterReachIt) {
  // As the sandbox does: the share is a shared mount of its own.
  fs::create_directories(shared());
  ASSERT_EQ(::mount(shared().c_str(), shared().c_str(), nullptr, MS_BIND, nullptr), 0);
  ASSERT_EQ(::mount(nullptr, shared().c_str(), nullptr, MS_SHARED, nullptr), 0);
  Subprocess vmm = start(true);
  ASSERT_THAT(slurp(vm_dir() / "console"), HasSubstr("ready")) << log();
  fs::path source = dir_.path() / "rootfs";
  fs::create_directories(source);
  std::ofstream(source / "file") << "from the host";
  fs::create_directories(shared() / "c1");
  ASSERT_EQ(::mount(source.c_str(), (shared() / "c1").c_str(), nullptr, MS_BIND, nullptr), 0);
  fs::path seen = fs::path("/proc") / std::to_string(file_server_of(vmm.pid())) / "root" /
                  (shared() / "c1" / "file").relative_path();
  EXPECT_EQ(slurp(seen), "from the host");
  // And an unmount there leaves nothing pinned in the jail.
  ASSERT_EQ(::umount2((shared() / "c1").c_str(), 0), 0);
  EXPECT_FALSE(fs::exists(seen));
  stop(vmm);
  ::umount2(shared().c_str(), MNT_DETACH);
}

// What code that took over the VMM would try: a system call the thread's
// allow list lacks (acct, harmless even if it ran: no CAP_SYS_PACCT). The
// filter ends the VMM, and the log names the thread and the call.
TEST_F(VmmJail, AForbiddenSystemCallEndsItAndIsLogged) {
  Subprocess vmm = start(true);
  ASSERT_THAT(slurp(vm_dir() / "console"), HasSubstr("ready")) << log();
  std::this_thread::sleep_for(100ms);  // into its epoll_wait
  vmrt::test::inject_syscall(vmm.pid(), SYS_acct);
  auto status = vmm.wait_for(20s);
  ASSERT_TRUE(status) << log();
  // Pid 1 of its namespace ignores its own SIGSYS: it exits with 128+SIGSYS.
  EXPECT_TRUE(status->signal == SIGSYS || status->code == 128 + SIGSYS) << status->to_string();
  EXPECT_THAT(log(), HasSubstr("seccomp: thread control made forbidden system call 163 (acct)"));
}

TEST_F(VmmJail, RefusesARootIdentity) {
  RunResult r = run_capture(
      {VMRT_VMM, "--kernel", "/proc/self/exe", "--jail", jail().string(), "--jail-uid", "0"}, 20s);
  EXPECT_EQ(r.status.code, 1);
  EXPECT_THAT(r.err, HasSubstr("must not be root's"));
  EXPECT_FALSE(fs::exists(jail()));
}

}  // namespace
}  // namespace vmrt::vmm
