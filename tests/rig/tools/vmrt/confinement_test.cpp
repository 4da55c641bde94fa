// The VMM of a real sandbox, as `vmrt run` starts it in the rig, is
// confined: every thread under its seccomp filter, an unprivileged uid with
// no capability, pid 1 of its own pid namespace, a root that is its jail
// (without the shared directory), a cgroup whose limits follow the VM's
// size; its virtio-fs file server is a process of its own, the only one with
// file capabilities and the share, jailed and filtered too; and a system
// call outside a filter (made through ptrace, as code that took over the
// process would) ends the VM, logged, with the container reported stopped.
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "sandbox/vmm_cgroup.h"
#include "tests/rig/support/host_state.h"
#include "tests/rig/tools/vmrt/vmrt_cli.h"
#include "tests/support/proc_status.h"
#include "tests/support/syscall_injection.h"
#include "vmm/security/privileges.h"

namespace vmrt::cli::test {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using vmrt::test::read_text;

// Counts the process's threads (KVM's kernel workers aside), failing the
// test for any not under a seccomp filter.
int filtered_threads(const fs::path& proc) {
  int threads = 0;
  for (const auto& task : fs::directory_iterator(proc / "task")) {
    std::string name = read_text(task.path() / "comm");
    if (name.starts_with("kvm-")) continue;
    ++threads;
    EXPECT_EQ(vmrt::test::proc_status_value(task.path() / "status", "Seccomp"), "2") << name;
  }
  return threads;
}

class VmrtConfinement : public ::testing::Test {
 protected:
  void TearDown() override {
    if (!HasFailure()) {
      EXPECT_THAT(cli_.leftovers(), IsEmpty());
    }
  }
  VmrtCli cli_;
};

TEST_F(VmrtConfinement, TheVmmRunsJailedUnprivilegedAndLimited) {
  auto b = cli_.bundle("b", {"sleep", "1000"}, [](nlohmann::json& spec) {
    spec["root"]["readonly"] = false;
    // `vmrt spec`'s three capabilities lack CAP_CHOWN.
    for (const char* set : {"bounding", "effective", "permitted"})
      spec["process"]["capabilities"][set].push_back("CAP_CHOWN");
  });
  ASSERT_TRUE(cli_.detached_ok({"run", "-d", "-b", b.string(), "j"}));
  pid_t vmm = cli_.recorded_pid("j", "vmm");
  fs::path proc = fs::path("/proc") / std::to_string(vmm);

  const std::string no_caps = "0000000000000000";
  EXPECT_EQ(vmrt::test::proc_status_value(proc / "status", "Uid"), "65534\t65534\t65534\t65534");
  EXPECT_EQ(vmrt::test::proc_status_value(proc / "status", "CapEff"), no_caps);
  EXPECT_EQ(vmrt::test::proc_status_value(proc / "status", "CapPrm"), no_caps);
  EXPECT_EQ(vmrt::test::proc_status_value(proc / "status", "CapBnd"), no_caps);
  EXPECT_EQ(vmrt::test::proc_status_value(proc / "status", "NoNewPrivs"), "1");
  EXPECT_EQ(vmrt::test::proc_status_value(proc / "status", "NSpid"), fmt::format("{}\t1", vmm));
  EXPECT_GE(filtered_threads(proc), 3);  // main, vCPU, device control at least

  // Its root is the jail: no host files and not even the share.
  fs::path root = proc / "root";
  fs::path shared = cli_.root() / "j" / "shared";
  EXPECT_FALSE(fs::exists(root / "etc/passwd"));
  EXPECT_FALSE(fs::exists(root / "usr/bin"));
  EXPECT_TRUE(fs::is_character_file(root / "dev/kvm"));
  EXPECT_FALSE(fs::exists(root / shared.relative_path() / "j" / "rootfs" / "bin" / "busybox"));

  // The file server: the VMM's only child, the same uid with only the file
  // capabilities, in a jail that holds the share with the rootfs and
  // nothing else.
  std::vector<int> children = vmrt::test::descendants(vmm);
  ASSERT_EQ(children.size(), 1u);
  fs::path server = fs::path("/proc") / std::to_string(children[0]);
  EXPECT_EQ(read_text(server / "comm"), "vmrt-fs-server\n");
  std::string file_caps = fmt::format("{:016x}", vmm::security::file_server_capabilities());
  EXPECT_EQ(vmrt::test::proc_status_value(server / "status", "Uid"), "65534\t65534\t65534\t65534");
  EXPECT_EQ(vmrt::test::proc_status_value(server / "status", "CapEff"), file_caps);
  EXPECT_EQ(vmrt::test::proc_status_value(server / "status", "CapBnd"), file_caps);
  EXPECT_EQ(vmrt::test::proc_status_value(server / "status", "NoNewPrivs"), "1");
  EXPECT_GE(filtered_threads(server), 2);  // the command loop and a queue worker
  fs::path server_root = server / "root";
  EXPECT_TRUE(
      fs::exists(server_root / shared.relative_path() / "j" / "rootfs" / "bin" / "busybox"));
  EXPECT_FALSE(fs::exists(server_root / "dev/kvm"));
  EXPECT_FALSE(fs::exists(server_root / "etc/passwd"));
  EXPECT_EQ(read_text(server / "cgroup"), "0::/vmrt/vmm-j\n");

  // Its cgroup, with the limits of the VM's size.
  std::string cgroup = read_text(proc / "cgroup");
  EXPECT_EQ(cgroup, "0::/vmrt/vmm-j\n");
  fs::path cg = "/sys/fs/cgroup/vmrt/vmm-j";
  // The configuration in use, as `vmrt features` reports it.
  nlohmann::json config = nlohmann::json::parse(cli_.run({"features"}).out)["annotations"];
  auto limits = sandbox::limits_for(
      static_cast<uint32_t>(std::stoul(config["io.vmrt.config.vcpus"].get<std::string>())),
      std::stoull(config["io.vmrt.config.memory_mib"].get<std::string>()));
  EXPECT_EQ(read_text(cg / "memory.max"), fmt::format("{}\n", limits.memory_bytes));
  EXPECT_EQ(read_text(cg / "cpu.max"), fmt::format("{} 100000\n", limits.cpu_quota_us));
  EXPECT_EQ(read_text(cg / "pids.max"), fmt::format("{}\n", limits.max_tasks));

  // The unprivileged VMM still creates the guest's files as the guest's
  // users: the container's root makes root's files, a chown is kept.
  RunResult r = cli_.run({"exec", "j", "sh", "-c",
                          "echo x > /by-root && echo y > /by-1000 && chown 1000:1001 /by-1000"});
  EXPECT_TRUE(r.status.success()) << r.err;
  struct stat st {};
  ASSERT_EQ(::stat((b / "rootfs" / "by-root").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 0u);
  EXPECT_EQ(st.st_gid, 0u);
  ASSERT_EQ(::stat((b / "rootfs" / "by-1000").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 1000u);
  EXPECT_EQ(st.st_gid, 1001u);

  r = cli_.run({"delete", "--force", "j"});
  EXPECT_TRUE(r.status.success()) << r.err;
}

TEST_F(VmrtConfinement, AForbiddenSystemCallEndsTheVmmAndIsLogged) {
  auto b = cli_.bundle("b", {"sleep", "1000"});
  ASSERT_TRUE(cli_.detached_ok({"run", "-d", "-b", b.string(), "s"}));
  fs::path log = cli_.root() / "s" / "vmm.log";
  vmrt::test::inject_syscall(cli_.recorded_pid("s", "vmm"), SYS_acct);
  EXPECT_EQ(cli_.wait_status("s", "stopped"), "stopped");
  EXPECT_THAT(read_text(log), HasSubstr("seccomp: thread control made forbidden system call 163 "
                                        "(acct)"));
  RunResult r = cli_.run({"delete", "s"});
  EXPECT_TRUE(r.status.success()) << r.err;
}

// The same for the file server: code that took it over and calls outside
// its filter kills it, and the VM ends with it (the guest's files are gone)
// instead of leaving the container hanging on its root filesystem.
TEST_F(VmrtConfinement, AForbiddenSystemCallInTheFileServerEndsTheVm) {
  auto b = cli_.bundle("b", {"sleep", "1000"});
  ASSERT_TRUE(cli_.detached_ok({"run", "-d", "-b", b.string(), "f"}));
  fs::path log = cli_.root() / "f" / "vmm.log";
  std::vector<int> children = vmrt::test::descendants(cli_.recorded_pid("f", "vmm"));
  ASSERT_EQ(children.size(), 1u);
  vmrt::test::inject_syscall(children[0], SYS_acct);
  EXPECT_EQ(cli_.wait_status("f", "stopped"), "stopped");
  std::string text = read_text(log);
  EXPECT_THAT(text, HasSubstr("seccomp: thread file-server made forbidden system call 163 (acct)"));
  EXPECT_THAT(text, HasSubstr("the virtio-fs file server process ended (killed by signal 31"));
  RunResult r = cli_.run({"delete", "f"});
  EXPECT_TRUE(r.status.success()) << r.err;
}

}  // namespace
}  // namespace vmrt::cli::test
