// The shim's pure parts: containerd's command line, pod grouping and socket
// placement, rootfs mount options, stdio FIFOs, metrics conversion.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>

#include "common/error.h"
#include "common/tempdir.h"
#include "shim/metrics.h"
#include "shim/pod_location.h"
#include "shim/rootfs_mounts.h"
#include "shim/shim_args.h"
#include "shim/stdio_fifos.h"
#include "shim/vmm_pid_file.h"

namespace vmrt::shim {
namespace {

const StdioOwner kOwner{"c1", "default"};

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p);
  return {std::istreambuf_iterator<char>(in), {}};
}

TEST(ShimArgs, ParsesWhatContainerdPasses) {
  ShimArgs a =
      parse_shim_args({"-namespace", "k8s.io", "-address", "/run/c.sock", "-publish-binary",
                       "/usr/bin/containerd", "-id", "abc", "-debug", "start"});
  EXPECT_EQ(a.namespace_, "k8s.io");
  EXPECT_EQ(a.address, "/run/c.sock");
  EXPECT_EQ(a.publish_binary, "/usr/bin/containerd");
  EXPECT_EQ(a.id, "abc");
  EXPECT_TRUE(a.debug);
  EXPECT_EQ(a.action, "start");
  ShimArgs d = parse_shim_args({"--id=x", "-bundle=/b", "delete"});
  EXPECT_EQ(d.id, "x");
  EXPECT_EQ(d.bundle, "/b");
  EXPECT_EQ(d.action, "delete");
  EXPECT_EQ(parse_shim_args({"-id", "x"}).action, "");
}

TEST(ShimArgs, ServeArgsRoundTrip) {
  ShimArgs a = parse_shim_args(
      {"-namespace", "default", "-address", "/a", "-publish-binary", "/p", "-id", "i", "start"});
  ShimArgs b = parse_shim_args(serve_args(a));
  EXPECT_EQ(b.namespace_, a.namespace_);
  EXPECT_EQ(b.address, a.address);
  EXPECT_EQ(b.id, a.id);
  EXPECT_EQ(b.action, "");
}

TEST(ShimArgs, BadInputIsNamed) {
  auto msg = [](std::vector<std::string> v) {
    try {
      parse_shim_args(v);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(msg({"-bogus", "1"}).find("unknown flag -bogus"), std::string::npos);
  EXPECT_NE(msg({"-id"}).find("-id needs a value"), std::string::npos);
  EXPECT_NE(msg({"run"}).find("unknown action run"), std::string::npos);
  EXPECT_NE(msg({"start", "delete"}).find("unexpected argument"), std::string::npos);
}

TEST(PodLocation, CriContainersJoinTheirSandbox) {
  oci::StringMap sandbox = {{kContainerTypeAnnotation, "sandbox"}, {kSandboxIdAnnotation, "pod1"}};
  oci::StringMap container = {{kContainerTypeAnnotation, "container"},
                              {kSandboxIdAnnotation, "pod1"}};
  EXPECT_EQ(pod_of("pod1", sandbox), "pod1");
  EXPECT_EQ(pod_of("c1", container), "pod1");
  EXPECT_EQ(pod_of("plain", {}), "plain");
}

TEST(PodLocation, OneShortSocketPerContainerdNamespaceAndPod) {
  auto a = locate_pod("/run/containerd/containerd.sock", "k8s.io", std::string(64, 'f'), "/r");
  EXPECT_EQ(a.dir.parent_path(), "/r");
  EXPECT_EQ(a.socket, a.dir / "shim.sock");
  EXPECT_EQ(a.address(), "unix://" + a.socket.string());
  EXPECT_LT(a.sandbox_dir().string().size() + sizeof("/vm.sock"), 108u);
  EXPECT_EQ(
      a.dir,
      locate_pod("/run/containerd/containerd.sock", "k8s.io", std::string(64, 'f'), "/r").dir);
  EXPECT_NE(a.dir, locate_pod("/other.sock", "k8s.io", std::string(64, 'f'), "/r").dir);
  EXPECT_NE(
      a.dir,
      locate_pod("/run/containerd/containerd.sock", "default", std::string(64, 'f'), "/r").dir);
  EXPECT_NE(locate_pod("a", "bc", "d", "/r").dir, locate_pod("ab", "c", "d", "/r").dir);
}

TEST(VmmPidFile, RecordsThePodsVmForDeleteAndTheMonitor) {
  TempDir d("shim-pod");
  record_vmm(d.path(), ::getpid(), "pod-a");
  record_start_times(d.path(), R"({"vmm_ready_ms":1})");
  EXPECT_EQ(read_file(vmm_pid_file(d.path())), std::to_string(::getpid()) + "\n");
  EXPECT_EQ(read_file(pod_id_file(d.path())), "pod-a\n");
  EXPECT_EQ(read_file(start_times_file(d.path())), "{\"vmm_ready_ms\":1}\n");
  // Not a vmrt-vmm (this test): left alive, and forgotten.
  kill_recorded_vmm(d.path());
  EXPECT_FALSE(std::filesystem::exists(vmm_pid_file(d.path())));
}

TEST(RootfsMounts, OptionsBecomeFlagsAndData) {
  MountArgs o = mount_args(
      {"overlay", "overlay", {"index=off", "lowerdir=/l1:/l2", "upperdir=/u", "workdir=/w"}});
  EXPECT_EQ(o.flags, 0u);
  EXPECT_EQ(o.data, "index=off,lowerdir=/l1:/l2,upperdir=/u,workdir=/w");
  MountArgs b = mount_args({"bind", "/src", {"rbind", "ro", "nosuid"}});
  EXPECT_EQ(b.flags, static_cast<unsigned long>(MS_BIND | MS_REC | MS_RDONLY | MS_NOSUID));
  EXPECT_EQ(b.data, "");
  EXPECT_EQ(mount_args({"tmpfs", "tmpfs", {"ro", "rw"}}).flags, 0u);
}

TEST(StdioFifos, StdinSeesWritersDataThenEndOfFile) {
  TempDir d("shim-fifo");
  std::string in = (d.path() / "stdin").string(), out = (d.path() / "stdout").string();
  ASSERT_EQ(::mkfifo(in.c_str(), 0600), 0);
  ASSERT_EQ(::mkfifo(out.c_str(), 0600), 0);
  // containerd holds the reading end of stdout before it creates the task.
  UniqueFd out_reader(::open(out.c_str(), O_RDONLY | O_NONBLOCK));
  HostStdio s = open_stdio({in, out, "", false}, kOwner);
  ASSERT_TRUE(s.in && s.out);
  EXPECT_FALSE(s.err);
  // No writer yet: the relay's poll must not wake up (a premature EOF).
  pollfd p{s.in.get(), POLLIN, 0};
  EXPECT_EQ(::poll(&p, 1, 50), 0);
  {
    UniqueFd w(::open(in.c_str(), O_WRONLY));
    ASSERT_EQ(::write(w.get(), "hi", 2), 2);
  }
  ASSERT_EQ(::poll(&p, 1, 1000), 1);
  char buf[8];
  EXPECT_EQ(::read(s.in.get(), buf, sizeof buf), 2);
  EXPECT_EQ(::read(s.in.get(), buf, sizeof buf), 0);
  ASSERT_EQ(::write(s.out.get(), "x", 1), 1);
  EXPECT_EQ(::read(out_reader.get(), buf, sizeof buf), 1);
}

TEST(StdioFifos, CloseIoEndsStdinThatNobodyOpened) {
  TempDir d("shim-fifo");
  std::string in = (d.path() / "stdin").string();
  ASSERT_EQ(::mkfifo(in.c_str(), 0600), 0);
  HostStdio s = open_stdio({in, "", "", false}, kOwner);
  close_stdin_fifo(in);
  pollfd p{s.in.get(), POLLIN, 0};
  ASSERT_EQ(::poll(&p, 1, 1000), 1);
  char c;
  EXPECT_EQ(::read(s.in.get(), &c, 1), 0);
}

TEST(StdioFifos, OutputFifoWithoutReaderDoesNotBlockAndFilesAppend) {
  TempDir d("shim-fifo");
  std::string out = (d.path() / "stdout").string();
  ASSERT_EQ(::mkfifo(out.c_str(), 0600), 0);
  HostStdio s = open_stdio({"", out, "file://" + (d.path() / "err.log").string(), false}, kOwner);
  ASSERT_TRUE(s.out && s.err);
  ASSERT_EQ(::write(s.err.get(), "e", 1), 1);
  EXPECT_TRUE(std::filesystem::exists(d.path() / "err.log"));
}

TEST(StdioFifos, UnsupportedSchemeIsNamed) {
  try {
    open_stdio({"", "tcp://localhost:1", "", false}, kOwner);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("tcp scheme is not supported"), std::string::npos)
        << e.what();
  }
}

// ctr run --log-uri file://PATH: stdout and stderr go to one file, created
// with its directory, as containerd's runc shim does.
TEST(StdioFifos, FileUriIsOneLogForBothStreams) {
  TempDir d("shim-fifo");
  std::string uri = "file://" + (d.path() / "logs/c1.log").string();
  HostStdio s = open_stdio({"", uri, uri, false}, kOwner);
  ASSERT_TRUE(s.out && s.err);
  EXPECT_FALSE(s.in);
  ASSERT_EQ(::write(s.out.get(), "out\n", 4), 4);
  ASSERT_EQ(::write(s.err.get(), "err\n", 4), 4);
  EXPECT_EQ(read_file(d.path() / "logs/c1.log"), "out\nerr\n");
  EXPECT_EQ(std::filesystem::status(d.path() / "logs/c1.log").permissions(),
            std::filesystem::perms(0644));
}

TEST(BinaryLogger, UriBecomesProgramAndArguments) {
  EXPECT_EQ(binary_logger_argv("binary:///usr/bin/log%20ger?tag=a+b&flag&x=%2F"),
            (std::vector<std::string>{"/usr/bin/log ger", "tag", "a b", "flag", "", "x", "/"}));
  EXPECT_EQ(binary_logger_argv("binary://host/opt/l"), (std::vector<std::string>{"/opt/l"}));
  for (const char* bad : {"binary://", "binary://nopath", "binary:///x?a=%zz"})
    EXPECT_THROW(binary_logger_argv(bad), Error) << bad;
}

// nerdctl's logging: a program that reads stdout on fd 3 and stderr on fd 4,
// says it is ready on fd 5, and sees the environment containerd gives it.
TEST(BinaryLogger, ProgramGetsBothStreamsItsEnvironmentAndAnEnd) {
  TempDir d("shim-logger");
  auto script = d.path() / "logger.sh";
  std::ofstream(script)
      << "#!/bin/sh\n"
         // SIGTERM comes as the streams close: finish first.
         "trap '' TERM\n"
         "echo \"$CONTAINER_NAMESPACE/$CONTAINER_ID $1=$2 HOME=${HOME:-unset}\" > "
      << (d.path() / "env").string()
      << "\necho ready >&5; exec 5>&-\n"
         "/bin/cat <&3 > "
      << (d.path() / "out").string() << " &\n/bin/cat <&4 > " << (d.path() / "err").string()
      << "\nwait\n";
  std::filesystem::permissions(script, std::filesystem::perms(0755));
  std::string uri = "binary://" + script.string() + "?tag=web";
  {
    HostStdio s = open_stdio({"", uri, uri, false}, {"c1", "k8s.io"});
    ASSERT_TRUE(s.logger && s.out && s.err);
    EXPECT_FALSE(s.in) << "binary:// has no stdin";
    ASSERT_EQ(::write(s.out.get(), "to stdout\n", 10), 10);
    ASSERT_EQ(::write(s.err.get(), "to stderr\n", 10), 10);
  }  // closing the streams ends the logger: it is waited for
  EXPECT_EQ(read_file(d.path() / "env"), "k8s.io/c1 tag=web HOME=unset\n");
  EXPECT_EQ(read_file(d.path() / "out"), "to stdout\n");
  EXPECT_EQ(read_file(d.path() / "err"), "to stderr\n");
}

TEST(BinaryLogger, AProgramThatCannotStartIsAnErrorNamingIt) {
  TempDir d("shim-logger");
  auto not_executable = d.path() / "logger";
  std::ofstream(not_executable) << "#!/bin/sh\n";
  for (const std::string path : {std::string("/no/such/logger"), not_executable.string()}) {
    try {
      open_stdio({"", "binary://" + path, "", false}, kOwner);
      FAIL() << "no error for " << path;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    }
  }
}

// A program that fails at once closes its ready pipe by exiting: the shim
// does not hang on it (containerd's runc shim goes on with the task then, as
// vmrt does unless it has seen the failure already) and leaves no process.
TEST(BinaryLogger, AProgramThatExitsAtOnceLeavesNothingBehind) {
  try {
    HostStdio s = open_stdio({"", "binary:///bin/false", "", false}, kOwner);
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("/bin/false exited with status 1"), std::string::npos)
        << e.what();
  }
  EXPECT_EQ(::waitpid(-1, nullptr, WNOHANG), -1);
  EXPECT_EQ(errno, ECHILD);
}

TEST(Metrics, GuestStatsBecomeCgroupV2Metrics) {
  vmrt::agent::v1::StatsContainerResponse s;
  s.mutable_cpu()->set_usage_usec(10);
  s.mutable_cpu()->set_nr_throttled(2);
  s.mutable_memory()->set_current(4096);
  s.mutable_memory()->set_oom_kill(1);
  s.mutable_memory()->set_inactive_file(1024);
  s.mutable_memory()->set_pgmajfault(5);
  s.mutable_pids()->set_current(3);
  auto* io = s.add_io();
  io->set_major(254);
  io->set_read_bytes(512);
  auto m = to_metrics(s);
  EXPECT_EQ(m.GetTypeName(), "io.containerd.cgroups.v2.Metrics");
  EXPECT_EQ(m.cpu().usage_usec(), 10u);
  EXPECT_EQ(m.cpu().nr_throttled(), 2u);
  EXPECT_EQ(m.memory().usage(), 4096u);
  EXPECT_EQ(m.memory().usage_limit(), UINT64_MAX);  // no limit, as containerd reports it
  // What containerd's CRI subtracts from usage for the working set.
  EXPECT_EQ(m.memory().inactive_file(), 1024u);
  EXPECT_EQ(m.memory().pgmajfault(), 5u);
  EXPECT_EQ(m.memory_events().oom_kill(), 1u);
  EXPECT_EQ(m.pids().current(), 3u);
  ASSERT_EQ(m.io().usage_size(), 1);
  EXPECT_EQ(m.io().usage(0).major(), 254u);
  EXPECT_EQ(m.io().usage(0).rbytes(), 512u);
}

}  // namespace
}  // namespace vmrt::shim
