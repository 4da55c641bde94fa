// The guest as the attacker, in a real sandbox VM: root in a container with
// every capability is root in the guest, and tries what a workload that
// broke out of its container would, against the host's side of the VM.
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "tests/rig/support/host_state.h"
#include "tests/rig/tools/vmrt/vmrt_cli.h"

namespace vmrt::cli::test {
namespace {

namespace fs = std::filesystem;
using ::testing::ContainsRegex;
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

// The mounts at or below `dir` in the mount namespace of process `pid`: mount
// point to per-mount options ("ro,nosuid,nodev,relatime").
std::map<std::string, std::string> mounts_of(pid_t pid, const fs::path& dir) {
  std::map<std::string, std::string> out;
  std::istringstream lines(read_text(fmt::format("/proc/{}/mountinfo", pid)));
  for (std::string line; std::getline(lines, line);) {
    std::istringstream f(line);
    std::string id, parent, dev, root, point, options;
    f >> id >> parent >> dev >> root >> point >> options;
    if (point == dir.string() || point.starts_with(dir.string() + "/")) out[point] = options;
  }
  return out;
}

bool has_option(const std::string& options, const std::string& o) {
  return ("," + options + ",").find("," + o + ",") != std::string::npos;
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

// The guest's root mounts the share and goes for what the spec made
// read-only (a "ro" bind of a host directory, the rootfs of a
// root.readonly container), asks for device nodes and plants a setuid-root
// program in a writable volume. The host side of the share enforces the
// spec: read-only mounts, nosuid and nodev on every one, in the file
// server's view as in the runtime's; the server refuses device nodes.
TEST_F(VmrtAttacker, GuestRootCannotWriteReadOnlyBindsNorPlantDevices) {
  fs::path config = cli_.dir() / "config", volume = cli_.dir() / "volume";
  fs::create_directories(config);
  fs::create_directories(volume);
  std::ofstream(config / "key") << kSecret;
  std::ofstream(volume / "marker") << "rw";
  auto b = cli_.bundle("b", {"sleep", "1000"}, [&](nlohmann::json& spec) {
    make_privileged(spec);
    spec["root"]["readonly"] = true;
    spec["mounts"].push_back({{"destination", "/config"},
                              {"type", "bind"},
                              {"source", config.string()},
                              {"options", {"bind", "ro"}}});
    spec["mounts"].push_back({{"destination", "/volume"},
                              {"type", "bind"},
                              {"source", volume.string()},
                              {"options", {"rbind", "rw"}}});
  });
  ASSERT_TRUE(cli_.detached_ok({"run", "-d", "-b", b.string(), "g"}));

  fs::path shared = cli_.root() / "g" / "shared";
  pid_t vmm = cli_.recorded_pid("g", "vmm");
  std::vector<int> children = vmrt::test::descendants(vmm);
  ASSERT_EQ(children.size(), 1u);
  for (pid_t viewer : {cli_.recorded_pid("g", "keeper"), pid_t(children[0])}) {
    auto mounts = mounts_of(viewer, shared);
    ASSERT_TRUE(mounts.count((shared / "g" / "rootfs").string())) << viewer;
    int readonly = 0;
    for (const auto& [point, options] : mounts) {
      EXPECT_TRUE(has_option(options, "nosuid") && has_option(options, "nodev"))
          << viewer << ": " << point << " " << options;
      bool config_bind = fs::exists(fs::path("/proc") / std::to_string(viewer) / "root" /
                                    fs::path(point).relative_path() / "key");
      if (config_bind || point == (shared / "g" / "rootfs").string()) {
        EXPECT_TRUE(has_option(options, "ro")) << viewer << ": " << point << " " << options;
        ++readonly;
      }
    }
    EXPECT_EQ(readonly, 2) << viewer;
  }

  std::string script =
      R"sh(mkdir /dev/s && mount -t virtiofs vmrt /dev/s || { echo MOUNT-FAILED; exit 1; }
cd /dev/s
for d in .binds/*; do [ -f $d/key ] && ro=$d; [ -f $d/marker ] && rw=$d; done
echo "ro write: $(echo pwned 2>&1 >$ro/key)"
echo "ro create: $(touch $ro/new 2>&1)"
echo "ro chmod: $(chmod 4777 $ro/key 2>&1)"
echo "rootfs create: $(touch g/rootfs/planted 2>&1)"
echo "block: $(mknod $rw/sda b 8 0 2>&1)"
echo "char: $(mknod $rw/mem c 1 1 2>&1)"
mknod $rw/fifo p && echo "fifo: made"
cp /bin/busybox $rw/suid && chmod 4755 $rw/suid && echo "suid: planted"
echo DONE)sh";
  RunResult r = cli_.run({"exec", "g", "sh", "-c", script}, "", std::chrono::seconds(300));
  EXPECT_EQ(r.status.code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, Not(HasSubstr("MOUNT-FAILED")));
  EXPECT_THAT(r.out, ContainsRegex("ro write: .*Read-only file system"));
  EXPECT_THAT(r.out, ContainsRegex("ro create: .*Read-only file system"));
  EXPECT_THAT(r.out, ContainsRegex("ro chmod: .*Read-only file system"));
  EXPECT_THAT(r.out, ContainsRegex("rootfs create: .*Read-only file system"));
  EXPECT_THAT(r.out, ContainsRegex("block: .*Operation not permitted"));
  EXPECT_THAT(r.out, ContainsRegex("char: .*Operation not permitted"));
  EXPECT_THAT(r.out, HasSubstr("fifo: made"));
  EXPECT_THAT(r.out, HasSubstr("suid: planted"));
  EXPECT_THAT(r.out, HasSubstr("DONE"));

  EXPECT_EQ(read_text(config / "key"), kSecret);
  EXPECT_FALSE(fs::exists(config / "new"));
  EXPECT_FALSE(fs::exists(b / "rootfs" / "planted"));
  EXPECT_FALSE(fs::exists(fs::symlink_status(volume / "sda")));
  EXPECT_FALSE(fs::exists(fs::symlink_status(volume / "mem")));
  EXPECT_TRUE(fs::is_fifo(volume / "fifo"));
  // The mode is the guest's to set; the share's nosuid mount of the volume
  // (checked above) is what keeps it from running setuid there.
  struct stat st {};
  ASSERT_EQ(::stat((volume / "suid").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 04755u);
  r = cli_.run({"delete", "--force", "g"});
  EXPECT_TRUE(r.status.success()) << r.err;
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
  // A VM that ended says why in the container's record (the VMM's and the
  // guest's last words).
  ASSERT_THAT(r.out, HasSubstr("FILLED")) << r.err << "\n" << cli_.record("f").dump(2);
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
