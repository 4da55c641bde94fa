// The container runtime on the host: each feature is checked from inside a
// busybox container. Needs root; cgroup v2 limits need a cgroup2 mount with
// controllers (the rig has one: VMRT_REQUIRE_CGROUP_CONTROLLERS=1 turns
// their absence into a failure there).

#include "agent/container/container.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include "common/error.h"
#include "tests/root/agent/bundle.h"
#include "tests/support/error_text.h"

namespace vmrt::agent {
namespace {

namespace fs = std::filesystem;
using test::Bundle;
using test::error_text;
using test::Output;
using test::read_streams;
using test::read_until;

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The lines of our mountinfo that name one of `dirs`: a container's own
// mounts on the host side, and none of those other tests (run beside this
// one under ctest -j2) make.
std::string mounts_naming(const std::vector<fs::path>& dirs) {
  std::istringstream all(slurp("/proc/self/mountinfo"));
  std::string line, found;
  while (std::getline(all, line))
    for (const auto& d : dirs)
      if (line.find(d.string()) != std::string::npos) {
        found += line + "\n";
        break;
      }
  return found;
}

bool require_controllers() { return std::getenv("VMRT_REQUIRE_CGROUP_CONTROLLERS") != nullptr; }

class ContainerTest : public ::testing::Test {
 protected:
  Bundle bundle;
  TempDir state{"vmrt-state"};

  // The containers' cgroups are removed by destroy(); their common parent is
  // the test's.
  void TearDown() override { ::rmdir((test::cgroup2_root() / "vmrt-test").c_str()); }

  std::string id() const {
    return std::string("t-") + ::testing::UnitTest::GetInstance()->current_test_info()->name();
  }

  ContainerOptions options(const std::string& suffix = "") {
    ContainerOptions o;
    o.id = id() + suffix;
    bundle.config["linux"]["cgroupsPath"] = "/vmrt-test/" + o.id;
    o.spec = oci::parse_spec(bundle.config);
    o.bundle = bundle.dir();
    o.state_dir = state.path();
    o.cgroup_root = test::cgroup2_root();
    o.stdio = StdioConfig::for_process(*o.spec.process);
    return o;
  }

  struct Run {
    ExitStatus status;
    std::string out, err;
  };

  Run run(const std::vector<std::string>& args, bool overlay_rootfs = false) {
    bundle.set_args(args);
    auto opts = options();
    opts.overlay_rootfs = overlay_rootfs;
    auto c = Container::create(std::move(opts));
    c->start();
    Output o = read_streams(c->init().stdio().out.get(), c->init().stdio().err.get());
    return {c->wait(), o.out, o.err};
  }

  Run sh(const std::string& script) { return run({"sh", "-c", script}); }

  void need_controller(const std::string& c) {
    if (test::cgroup_controller_available(c)) return;
    if (require_controllers()) FAIL() << "no " << c << " controller in " << test::cgroup2_root();
    GTEST_SKIP() << "no " << c << " controller in " << test::cgroup2_root()
                 << " (host with cgroup v1): covered by rig.root_container";
  }
};

TEST_F(ContainerTest, InitIsPid1AndSeesItsHostname) {
  Run r = sh("echo $$; hostname");
  EXPECT_TRUE(r.status.success()) << r.status.to_string() << r.err;
  EXPECT_EQ(r.out, "1\nrunc\n");
}

TEST_F(ContainerTest, ExitCodes) {
  EXPECT_EQ(sh("exit 0").status.code, 0);
  Run three = sh("exit 3");
  EXPECT_TRUE(three.status.exited);
  EXPECT_EQ(three.status.code, 3);
}

TEST_F(ContainerTest, KilledBySigkill) {
  bundle.set_args({"sleep", "100"});
  auto c = Container::create(options());
  c->start();
  c->signal(SIGKILL);
  ExitStatus s = c->wait();
  EXPECT_FALSE(s.exited);
  EXPECT_EQ(s.signal, SIGKILL);  // a caller reports 128 + 9 = 137
}

TEST_F(ContainerTest, SignalAllReachesEveryProcess) {
  bundle.set_args({"sh", "-c", "sleep 100 & sleep 101 & echo started; wait"});
  auto c = Container::create(options());
  c->start();
  read_until(c->init().stdio().out.get(), "started");
  EXPECT_EQ(c->processes().size(), 3u);
  c->signal(SIGKILL, true);
  EXPECT_EQ(c->wait().signal, SIGKILL);
  for (int i = 0; i < 100 && !c->processes().empty(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_TRUE(c->processes().empty());
}

TEST_F(ContainerTest, SignalsAreDelivered) {
  bundle.set_args({"sh", "-c",
                   "trap 'echo got TERM; exit 7' TERM; echo ready; "
                   "while :; do sleep 0.05; done"});
  auto c = Container::create(options());
  c->start();
  EXPECT_NE(read_until(c->init().stdio().out.get(), "ready").find("ready"), std::string::npos);
  c->signal(SIGTERM);
  Output o = read_streams(c->init().stdio().out.get(), -1);
  ExitStatus s = c->wait();
  EXPECT_EQ(o.out, "got TERM\n");
  EXPECT_TRUE(s.exited);
  EXPECT_EQ(s.code, 7);
}

TEST_F(ContainerTest, Mounts) {
  Run r = sh("awk '{print $2, $3, substr($4, 1, 2)}' /proc/self/mounts");
  ASSERT_TRUE(r.status.success()) << r.err;
  for (const char* line : {"/ ", "/proc proc rw", "/dev tmpfs rw", "/dev/pts devpts rw",
                           "/dev/shm tmpfs rw", "/dev/mqueue mqueue rw", "/sys sysfs ro",
                           "/proc/sys proc ro", "/proc/keys tmpfs", "/sys/firmware tmpfs ro"})
    EXPECT_NE(r.out.find(line), std::string::npos) << line << " in\n" << r.out;
  // root.readonly
  EXPECT_NE(r.out.find("/ "), std::string::npos);
  Run ro =
      sh("touch /x 2>&1; echo $?; grep ' / ' /proc/self/mounts | awk '{print substr($4,1,2)}'");
  EXPECT_NE(ro.out.find("Read-only file system"), std::string::npos) << ro.out;
}

// podman's default spec sets net.ipv4.ping_group_range and makes /proc/sys
// read-only: as runc does, the sysctls are written before readonlyPaths apply.
TEST_F(ContainerTest, SysctlsAreWrittenBeforeProcSysIsReadOnly) {
  bundle.config["linux"]["sysctl"] = {{"net.ipv4.ping_group_range", "0 2147483647"},
                                      {"kernel.domainname", "example.org"}};
  Run r =
      sh("cat /proc/sys/net/ipv4/ping_group_range /proc/sys/kernel/domainname; "
         "grep ' /proc/sys ' /proc/self/mounts | awk '{print substr($4, 1, 2)}'");
  ASSERT_TRUE(r.status.success()) << r.status.to_string() << r.err;
  EXPECT_EQ(r.out, "0\t2147483647\nexample.org\nro\n");
}

// podman's --tmpfs: the tmpfs starts with a copy of what it covers, owners,
// modes and links kept, and what is written there stays out of the rootfs.
TEST_F(ContainerTest, ATmpcopyupTmpfsStartsWithACopyOfTheDirectoryItCovers) {
  fs::path run = bundle.rootfs() / "run";
  fs::create_directories(run / "sub");
  std::ofstream(run / "sub" / "f") << "from the image\n";
  fs::permissions(run / "sub", fs::perms::owner_all | fs::perms::group_read);
  ASSERT_EQ(::chown((run / "sub" / "f").c_str(), 1000, 1001), 0);
  fs::create_symlink("sub/f", run / "link");
  bundle.config["mounts"].push_back({{"destination", "/run"},
                                     {"type", "tmpfs"},
                                     {"source", "tmpfs"},
                                     {"options", {"nosuid", "nodev", "tmpcopyup"}}});
  Run r =
      sh("cat /run/link; stat -c '%a %u %g' /run/sub /run/sub/f; "
         "grep ' /run ' /proc/self/mounts | awk '{print $3}'; echo new > /run/new");
  ASSERT_TRUE(r.status.success()) << r.status.to_string() << r.err;
  EXPECT_EQ(r.out, "from the image\n740 0 0\n644 1000 1001\ntmpfs\n");
  EXPECT_FALSE(fs::exists(run / "new"));
}

TEST_F(ContainerTest, MaskedAndDevices) {
  Run r = sh(
      "wc -c < /proc/keys; ls /sys/firmware | wc -l; ls /dev | grep -v core | tr '\\n' ' '; echo; "
      "readlink /dev/ptmx; readlink /dev/fd; echo x > /dev/null && head -c 4 /dev/zero | wc -c");
  ASSERT_TRUE(r.status.success()) << r.err;
  EXPECT_EQ(r.out,
            "0\n0\n"
            "fd full mqueue null ptmx pts random shm stderr stdin stdout tty urandom zero \n"
            "pts/ptmx\n/proc/self/fd\n4\n");
}

TEST_F(ContainerTest, BindMountWithOptions) {
  fs::create_directories(bundle.dir() / "data");
  std::ofstream(bundle.dir() / "data" / "f") << "shared\n";
  bundle.config["mounts"].push_back({{"destination", "/mnt/data"},
                                     {"type", "bind"},
                                     {"source", "data"},
                                     {"options", {"rbind", "ro", "nosuid", "rprivate"}}});
  Run r =
      sh("cat /mnt/data/f; touch /mnt/data/g 2>&1 >/dev/null | grep -c Read-only; "
         "grep ' /mnt/data ' /proc/self/mounts | awk '{print $4}'");
  ASSERT_TRUE(r.status.success()) << r.err;
  EXPECT_EQ(r.out.substr(0, 9), "shared\n1\n");
  EXPECT_NE(r.out.find("ro,nosuid"), std::string::npos) << r.out;
}

TEST_F(ContainerTest, CapabilitiesAndNoNewPrivs) {
  Run r =
      sh("grep -E '^(CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs|Seccomp):' /proc/self/status");
  ASSERT_TRUE(r.status.success()) << r.err;
  // CAP_KILL (5), CAP_NET_BIND_SERVICE (10), CAP_AUDIT_WRITE (29).
  const std::string set = "0000000020000420";
  EXPECT_EQ(r.out, "CapInh:\t0000000000000000\nCapPrm:\t" + set + "\nCapEff:\t" + set +
                       "\nCapBnd:\t" + set +
                       "\nCapAmb:\t0000000000000000\nNoNewPrivs:\t1\nSeccomp:\t0\n")
      << r.out;
}

TEST_F(ContainerTest, AmbientCapabilitiesForNonRoot) {
  bundle.config["process"]["user"] = {{"uid", 1000}, {"gid", 1000}};
  bundle.config["process"]["noNewPrivileges"] = false;
  bundle.config["process"]["capabilities"]["inheritable"] = {"CAP_NET_BIND_SERVICE"};
  Run r = sh("grep -E '^(CapEff|CapAmb|NoNewPrivs):' /proc/self/status");
  ASSERT_TRUE(r.status.success()) << r.err;
  EXPECT_EQ(r.out, "CapEff:\t0000000000000400\nCapAmb:\t0000000000000400\nNoNewPrivs:\t0\n");
}

TEST_F(ContainerTest, SeccompBlockedSyscallGivesEperm) {
  bundle.config["linux"]["seccomp"] = {
      {"defaultAction", "SCMP_ACT_ALLOW"},
      {"architectures", {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"}},
      {"syscalls",
       {{{"names", {"mkdir", "mkdirat"}}, {"action", "SCMP_ACT_ERRNO"}},
        {{"names", {"sethostname"}}, {"action", "SCMP_ACT_ERRNO"}, {"errnoRet", 38}}}}};
  bundle.config["root"]["readonly"] = false;
  Run r = sh("mkdir /tmp/d 2>&1; hostname foo 2>&1; grep Seccomp: /proc/self/status");
  EXPECT_NE(r.out.find("Operation not permitted"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Function not implemented"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Seccomp:\t2"), std::string::npos) << r.out;
  // Without noNewPrivileges the filter is loaded while still privileged.
  bundle.config["process"]["noNewPrivileges"] = false;
  Run r2 = sh("mkdir /tmp/d 2>&1; grep NoNewPrivs: /proc/self/status");
  EXPECT_NE(r2.out.find("Operation not permitted"), std::string::npos) << r2.out;
  EXPECT_NE(r2.out.find("NoNewPrivs:\t0"), std::string::npos) << r2.out;
}

TEST_F(ContainerTest, Rlimits) {
  bundle.config["process"]["rlimits"].push_back(
      {{"type", "RLIMIT_CORE"}, {"hard", 4096}, {"soft", 1024}});
  Run r = sh("ulimit -n; ulimit -c; ulimit -H -c");
  ASSERT_TRUE(r.status.success()) << r.err;
  EXPECT_EQ(r.out, "1024\n2\n8\n");  // ulimit -c counts 512-byte blocks
}

TEST_F(ContainerTest, UserAndGroups) {
  bundle.config["process"]["user"] = {{"uid", 1000}, {"gid", 1001}, {"additionalGids", {10, 20}}};
  Run r = sh("grep -E '^(Uid|Gid|Groups):' /proc/self/status; umask");
  ASSERT_TRUE(r.status.success()) << r.err;
  EXPECT_EQ(r.out,
            "Uid:\t1000\t1000\t1000\t1000\nGid:\t1001\t1001\t1001\t1001\nGroups:\t10 20 \n0022\n");
}

TEST_F(ContainerTest, EnvAndCwd) {
  bundle.config["process"]["env"].push_back("FOO=bar baz");
  bundle.config["process"]["cwd"] = "/tmp";
  Run r = sh("echo \"$FOO\"; pwd; env | grep -c PATH=");
  ASSERT_TRUE(r.status.success()) << r.err;
  EXPECT_EQ(r.out, "bar baz\n/tmp\n1\n");
}

TEST_F(ContainerTest, StdinPiped) {
  bundle.set_args({"cat"});
  auto c = Container::create(options());
  c->start();
  ASSERT_EQ(::write(c->init().stdio().in.get(), "hello\n", 6), 6);
  c->init().stdio().in.reset();
  Output o = read_streams(c->init().stdio().out.get(), c->init().stdio().err.get());
  EXPECT_TRUE(c->wait().success());
  EXPECT_EQ(o.out, "hello\n");
}

TEST_F(ContainerTest, TerminalAllocated) {
  bundle.config["process"]["terminal"] = true;
  bundle.config["process"]["consoleSize"] = {{"height", 30}, {"width", 100}};
  bundle.set_args({"sh", "-c", "tty; stty size; read l; echo \"got $l\"; stty size"});
  auto c = Container::create(options());
  ASSERT_TRUE(c->init().stdio().terminal.valid());
  c->start();
  int master = c->init().stdio().terminal.get();
  std::string first = read_until(master, "30 100");
  EXPECT_NE(first.find("/dev/pts/0"), std::string::npos) << first;
  EXPECT_NE(first.find("30 100"), std::string::npos) << first;
  c->resize_terminal(40, 120);
  ASSERT_EQ(::write(master, "line\n", 5), 5);
  Output o = read_streams(master, -1);
  EXPECT_NE(o.out.find("got line"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("40 120"), std::string::npos) << o.out;
  EXPECT_TRUE(c->wait().success());
}

TEST_F(ContainerTest, ExecIntoRunningContainer) {
  bundle.set_args({"sleep", "100"});
  auto c = Container::create(options());
  EXPECT_EQ(c->state(), Container::State::Created);
  c->start();
  EXPECT_EQ(c->state(), Container::State::Running);
  oci::Process p = c->spec().process.value();
  p.args = {"sh", "-c", "echo $$; cat /proc/1/cmdline | tr '\\0' ' '; echo; hostname; pwd; id -u"};
  p.cwd = "/tmp";
  p.user.uid = 123;
  auto e = c->exec(p, StdioConfig::pipes());
  Output o = read_streams(e->stdio().out.get(), e->stdio().err.get());
  EXPECT_TRUE(e->wait().success()) << o.err;
  EXPECT_EQ(o.out, "2\nsleep 100 \nrunc\n/tmp\n123\n");
  // with a terminal
  p.terminal = true;
  p.args = {"tty"};
  auto t = c->exec(p, StdioConfig::terminal());
  Output to = read_streams(t->stdio().terminal.get(), -1);
  EXPECT_TRUE(t->wait().success());
  EXPECT_NE(to.out.find("/dev/pts/"), std::string::npos) << to.out;
  // exit status of an exec'd process, and processes()
  p.terminal = false;
  p.args = {"sh", "-c", "exit 5"};
  auto x = c->exec(p, StdioConfig::null());
  EXPECT_EQ(x->wait().code, 5);
  auto procs = c->processes();
  EXPECT_EQ(procs, std::vector<pid_t>{c->pid()});
}

TEST_F(ContainerTest, PauseAndResume) {
  bundle.set_args({"sh", "-c", "while :; do echo x; sleep 0.02; done"});
  auto c = Container::create(options());
  c->start();
  int out = c->init().stdio().out.get();
  read_until(out, "x");
  c->pause();
  EXPECT_EQ(c->state(), Container::State::Paused);
  EXPECT_NE(slurp(c->cgroup_path() / "cgroup.events").find("frozen 1"), std::string::npos);
  // Drain what was written before the freeze, then nothing more comes.
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  char buf[4096];
  ::fcntl(out, F_SETFL, O_NONBLOCK);
  while (::read(out, buf, sizeof buf) > 0) {
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_LT(::read(out, buf, sizeof buf), 0);
  c->resume();
  EXPECT_EQ(c->state(), Container::State::Running);
  ::fcntl(out, F_SETFL, 0);
  EXPECT_NE(read_until(out, "x").find('x'), std::string::npos);
}

TEST_F(ContainerTest, StatsCpuAlways) {
  bundle.set_args({"sh", "-c", "i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done"});
  auto c = Container::create(options());
  c->start();
  c->wait();
  Stats s = c->stats();
  EXPECT_GT(s.cpu.usage_usec, 0u);
}

TEST_F(ContainerTest, CgroupLimitsSeenInside) {
  for (const char* ctl : {"memory", "pids", "cpu"}) {
    need_controller(ctl);
    if (IsSkipped() || HasFailure()) return;
  }
  bundle.config["linux"]["namespaces"].push_back({{"type", "cgroup"}});
  bundle.config["mounts"].push_back({{"destination", "/sys/fs/cgroup"},
                                     {"type", "cgroup"},
                                     {"source", "cgroup"},
                                     {"options", {"nosuid", "noexec", "nodev", "relatime", "ro"}}});
  bundle.config["linux"]["resources"] = {
      {"memory", {{"limit", 64 << 20}, {"swap", 96 << 20}}},
      {"cpu", {{"quota", 50000}, {"period", 100000}, {"shares", 512}}},
      {"pids", {{"limit", 32}}}};
  Run r =
      sh("cd /sys/fs/cgroup && cat memory.max memory.swap.max cpu.max cpu.weight pids.max; "
         "cat /proc/self/cgroup");
  ASSERT_TRUE(r.status.success()) << r.err;
  EXPECT_EQ(r.out, "67108864\n33554432\n50000 100000\n20\n32\n0::/\n");
}

TEST_F(ContainerTest, UpdateStatsAndOom) {
  for (const char* ctl : {"memory", "pids"}) {
    need_controller(ctl);
    if (IsSkipped() || HasFailure()) return;
  }
  bundle.config["linux"]["resources"] = {{"memory", {{"limit", 32 << 20}, {"swap", 32 << 20}}}};
  bundle.set_args({"sleep", "100"});
  auto c = Container::create(options());
  c->start();
  oci::Resources r;
  r.pids = oci::Pids{16};
  r.memory = oci::Memory{};
  r.memory->limit = 24 << 20;
  r.memory->swap = 24 << 20;
  c->update(r);
  EXPECT_EQ(slurp(c->cgroup_path() / "pids.max"), "16\n");
  EXPECT_EQ(slurp(c->cgroup_path() / "memory.max"), std::to_string(24 << 20) + "\n");
  Stats s = c->stats();
  ASSERT_TRUE(s.memory && s.pids);
  EXPECT_EQ(s.pids->max, 16u);
  EXPECT_EQ(s.memory->max, uint64_t(24 << 20));
  EXPECT_GT(s.memory->current, 0u);
  EXPECT_EQ(s.pids->current, 1u);
  ASSERT_GE(c->oom_event_fd(), 0);
  EXPECT_EQ(c->oom_kill_count(), 0u);
  // A process that needs more than the limit is OOM-killed, and told about.
  oci::Process p = c->spec().process.value();
  p.args = {"sh", "-c", "x=$(head -c 100000000 /dev/zero | tr '\\0' a); echo survived"};
  auto hog = c->exec(p, StdioConfig::null());
  ExitStatus hs = hog->wait();
  EXPECT_FALSE(hs.success()) << hs.to_string();
  pollfd pfd{c->oom_event_fd(), POLLIN, 0};
  EXPECT_EQ(::poll(&pfd, 1, 5000), 1);
  EXPECT_GE(c->oom_kill_count(), 1u);
}

TEST_F(ContainerTest, OverlayRootKeepsTheRootfsClean) {
  bundle.config["root"]["readonly"] = false;
  Run r = run({"sh", "-c", "echo hi > /newfile && cat /newfile && rm /bin/true && echo ok"}, true);
  EXPECT_TRUE(r.status.success()) << r.err;
  EXPECT_EQ(r.out, "hi\nok\n");
  EXPECT_FALSE(fs::exists(bundle.rootfs() / "newfile"));
  EXPECT_TRUE(fs::is_symlink(bundle.rootfs() / "bin" / "true"));
}

// The rootfs read-only underneath, as the host shares it for root.readonly:
// a bind's mount point that the image lacks goes to the overlay's upper
// layer, and the container's root is read-only all the same.
TEST_F(ContainerTest, ReadOnlyRootOnAnOverlayOverAReadOnlyRootfs) {
  struct ReadOnlyBind {
    fs::path path;
    explicit ReadOnlyBind(fs::path p) : path(std::move(p)) {
      check_sys(::mount(path.c_str(), path.c_str(), nullptr, MS_BIND | MS_REC, nullptr), "bind");
      check_sys(::mount(nullptr, path.c_str(), nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY, nullptr),
                "remount read-only");
    }
    ~ReadOnlyBind() { ::umount2(path.c_str(), MNT_DETACH); }
  } ro_rootfs(bundle.rootfs());
  fs::create_directories(bundle.dir() / "data");
  std::ofstream(bundle.dir() / "data" / "f") << "volume\n";
  bundle.config["mounts"].push_back({{"destination", "/not/in/image"},
                                     {"type", "bind"},
                                     {"source", "data"},
                                     {"options", {"rbind", "ro"}}});
  Run r = run({"sh", "-c", "cat /not/in/image/f; touch /x 2>&1 | grep -c Read-only"}, true);
  EXPECT_TRUE(r.status.success()) << r.err;
  EXPECT_EQ(r.out, "volume\n1\n");
  EXPECT_FALSE(fs::exists(bundle.rootfs() / "not"));
}

TEST_F(ContainerTest, SetupErrorsNameTheStep) {
  bundle.config["process"]["cwd"] = "/no/such/dir";
  std::string e = error_text([&] { Container::create(options()); });
  EXPECT_NE(e.find("changing to the working directory /no/such/dir: No such file or directory"),
            std::string::npos)
      << e;
  bundle.config["process"]["cwd"] = "/";
  bundle.set_args({"no-such-program"});
  auto c = Container::create(options("-exec"));
  e = error_text([&] { c->start(); });
  EXPECT_NE(e.find("executing no-such-program: No such file or directory"), std::string::npos) << e;
  EXPECT_EQ(c->state(), Container::State::Stopped);
}

// What the host has of a container after destroy: its processes, mounts,
// cgroup, state directory.
TEST_F(ContainerTest, NothingLeftAfterDestroy) {
  const std::vector<fs::path> ours = {bundle.dir(), state.path()};
  std::string mounts_before = mounts_naming(ours);
  bundle.config["root"]["readonly"] = false;
  auto o = options();
  o.overlay_rootfs = true;
  bundle.set_args({"sh", "-c", "sleep 100 & sleep 100"});
  o.spec = oci::parse_spec(bundle.config);
  auto c = Container::create(std::move(o));
  c->start();
  oci::Process p = c->spec().process.value();
  p.args = {"sleep", "200"};
  auto e = c->exec(p, StdioConfig::null());
  fs::path cgroup = c->cgroup_path();
  fs::path state_dir = state.path() / c->id();
  pid_t init = c->pid();
  ASSERT_TRUE(fs::exists(cgroup));
  ASSERT_TRUE(fs::exists(state_dir));
  c->destroy();
  EXPECT_FALSE(fs::exists(cgroup));
  EXPECT_FALSE(fs::exists(state_dir));
  EXPECT_EQ(::kill(init, 0), -1);
  EXPECT_EQ(e->wait().signal, SIGKILL);
  EXPECT_EQ(mounts_naming(ours), mounts_before);
  // A failed create leaves nothing either.
  bundle.config["process"]["cwd"] = "/no/such/dir";
  auto o2 = options("-failed");
  EXPECT_THROW(Container::create(std::move(o2)), Error);
  EXPECT_FALSE(fs::exists(cgroup.parent_path() / (id() + "-failed")));
  EXPECT_FALSE(fs::exists(state.path() / (id() + "-failed")));
  EXPECT_TRUE(fs::is_empty(state.path()));
}

TEST_F(ContainerTest, DestructorDestroys) {
  fs::path cgroup;
  {
    bundle.set_args({"sleep", "100"});
    auto c = Container::create(options());
    c->start();
    cgroup = c->cgroup_path();
  }
  EXPECT_FALSE(fs::exists(cgroup));
}

}  // namespace
}  // namespace vmrt::agent
