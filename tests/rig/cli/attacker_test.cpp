// The guest as the attacker, in a real sandbox VM: root in a container with
// every capability is root in the guest, and tries what a workload that
// broke out of its container would, against the host's side of the VM.
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "tests/rig/cli/vmrt_cli.h"
#include "tests/rig/support/host_state.h"

namespace vmrt::cli::test {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using vmrt::test::read_text;

const char* kSecret = "host secret 5f1c";

// Every capability, and no seccomp profile: the container's root can mount
// and do all that the guest's root can.
void make_privileged(nlohmann::json& spec) {
  nlohmann::json all = nlohmann::json::array();
  for (const char* c : {"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER",
                        "CAP_FSETID", "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP",
                        "CAP_LINUX_IMMUTABLE", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_SYS_CHROOT",
                        "CAP_SYS_PTRACE", "CAP_SYS_ADMIN", "CAP_SYS_RESOURCE", "CAP_MKNOD"})
    all.push_back(c);
  for (const char* set : {"bounding", "effective", "permitted"})
    spec["process"]["capabilities"][set] = all;
  spec["linux"].erase("seccomp");
  spec["root"]["readonly"] = false;
}

class VmrtAttacker : public ::testing::Test {
 protected:
  void SetUp() override {
    // Next to the state root, outside every sandbox's shared directory.
    std::ofstream(cli_.dir() / "secret") << kSecret;
  }
  void TearDown() override {
    if (!HasFailure()) {
      EXPECT_THAT(cli_.leftovers(), IsEmpty());
    }
  }
  VmrtCli cli_;
};

// The guest's root mounts the whole share (not just its container's rootfs)
// and goes for the host file next to it: upwards, through symlinks it plants
// naming host paths, through hard links, and while racing renames of a
// directory against a symlink. The guest kernel resolves every name inside
// the share; the VMM's server only ever opens what lies below it.
TEST_F(VmrtAttacker, GuestRootCannotReadHostFilesThroughTheShare) {
  fs::path secret = cli_.dir() / "secret";
  std::string script =
      R"sh(mkdir -p /mnt/s && mount -t virtiofs vmrt /mnt/s || { echo MOUNT-FAILED; exit 1; }
cd /mnt/s
echo "share: $(ls -a | tr '\n' ' ')"
cat ../../../../../@REL@ ../../../@REL@ 2>/dev/null
ln -s @ABS@ evil-abs; cat evil-abs 2>/dev/null
ln -s ../../../../../../@REL@ evil-rel; cat evil-rel 2>/dev/null
ln @ABS@ hard 2>/dev/null && cat hard
mkdir -p race/d
( i=0; while [ $i -lt 120 ]; do mv race/d race/x; ln -s / race/d; rm race/d; mv race/x race/d; i=$((i+1)); done ) &
i=0; while [ $i -lt 120 ]; do cat race/d@ABS@ 2>/dev/null; i=$((i+1)); done
wait
echo DONE)sh";
  auto put = [&](const std::string& mark, const std::string& value) {
    for (size_t at; (at = script.find(mark)) != std::string::npos;)
      script.replace(at, mark.size(), value);
  };
  put("@ABS@", secret.string());
  put("@REL@", secret.relative_path().string());
  auto b = cli_.bundle("b", {"sh", "-c", script}, make_privileged);
  // Every step of the race forks busybox applets, slow in a nested guest
  // under emulation and slower still beside other tests: hence the time.
  RunResult r = cli_.run({"run", "-b", b.string(), "a"}, "", std::chrono::seconds(420));
  EXPECT_EQ(r.status.code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("DONE"));
  EXPECT_THAT(r.out, Not(HasSubstr("MOUNT-FAILED")));
  // The share holds the container's directory and nothing of the host's.
  EXPECT_THAT(r.out, HasSubstr("share: . .. a "));
  EXPECT_THAT(r.out, Not(HasSubstr(kSecret)));
  EXPECT_EQ(read_text(secret), kSecret);  // untouched
}

// The guest's root takes every page of guest RAM and pushes file data
// through the share: the VMM, whose RSS now
// holds all of guest RAM, stays under its cgroup's limit, is not OOM-killed
// and still serves the guest. (The share's data itself is the host's page
// cache, charged to the VMM too: on a tmpfs, as in the rig, it is not
// reclaimable, so the test writes less of it than the limit.)
TEST_F(VmrtAttacker, FillingGuestMemoryStaysWithinTheVmmsLimit) {
  auto b = cli_.bundle("b", {"sleep", "1000"}, make_privileged);
  ASSERT_TRUE(cli_.detached_ok({"run", "-d", "-b", b.string(), "f"}));
  fs::path cg = "/sys/fs/cgroup/vmrt/vmm-f";
  uint64_t limit = std::stoull(read_text(cg / "memory.max"));
  // Two processes that each touch 200 MiB of a 256 MiB guest: the guest's
  // OOM killer ends at least one (the guest's business), after every page
  // of its RAM has been touched.
  cli_.run({"exec", "f", "sh", "-c",
            "dd if=/dev/zero of=/dev/null bs=200M count=1 & "
            "dd if=/dev/zero of=/dev/null bs=200M count=1 & wait"},
           "", std::chrono::seconds(900));
  RunResult r = cli_.run({"exec", "f", "sh", "-c",
                          "dd if=/dev/zero of=/through-the-share bs=1M count=48 "
                          "2>/dev/null && sync && rm /through-the-share && echo FILLED"},
                         "", std::chrono::seconds(900));
  EXPECT_THAT(r.out, HasSubstr("FILLED")) << r.err;
  EXPECT_LE(std::stoull(read_text(cg / "memory.peak")), limit);
  EXPECT_THAT(read_text(cg / "memory.events"), HasSubstr("oom_kill 0"));
  EXPECT_EQ(cli_.state("f").value("status", ""), "running");
  r = cli_.run({"exec", "f", "echo", "still serving"});
  EXPECT_EQ(r.out, "still serving\n") << r.err;
  r = cli_.run({"delete", "--force", "f"});
  EXPECT_TRUE(r.status.success()) << r.err;
}

}  // namespace
}  // namespace vmrt::cli::test
