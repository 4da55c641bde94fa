// Side by side with runc: the same bundle and config run by runc and by the
// container library give the same view from inside.

#include <gtest/gtest.h>
#include <poll.h>
#include <unistd.h>

#include <chrono>

#include "agent/container/container.h"
#include "common/process.h"
#include "common/tempdir.h"
#include "tests/root/agent/container/bundle.h"

namespace vmrt::agent {
namespace {

using namespace std::chrono_literals;

// Everything observable that does not depend on the host's cgroup layout
// (runc mounts cgroup v1 here, we mount cgroup v2).
const char* const kProbe = R"(
echo "pid $$"; hostname; id -u; id -g; pwd; echo "FOO=$FOO"; ulimit -n; ulimit -c; umask
grep -E '^(Uid|Gid|Groups|CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs|Seccomp):' /proc/self/status
ls -l /dev | awk '{print $1, $NF}' | sort
awk '$2 !~ /cgroup/ {print $2, $3}' /proc/self/mounts | sort
wc -c < /proc/kcore; ls /sys/firmware | wc -l
mkdir /tmp/x 2>&1; touch /y 2>&1
exit 3
)";

void configure(test::Bundle& b) {
  b.config["process"]["user"] = {{"uid", 1000}, {"gid", 1000}, {"additionalGids", {10, 20}}};
  b.config["process"]["env"].push_back("FOO=bar");
  b.config["process"]["cwd"] = "/tmp";
  b.config["process"]["rlimits"].push_back(
      {{"type", "RLIMIT_CORE"}, {"hard", 2048}, {"soft", 1024}});
  b.config["process"]["capabilities"]["inheritable"] = {"CAP_KILL"};
  b.config["linux"]["seccomp"] = {
      {"defaultAction", "SCMP_ACT_ALLOW"},
      {"architectures", {"SCMP_ARCH_X86_64"}},
      {"syscalls", {{{"names", {"mkdir", "mkdirat"}}, {"action", "SCMP_ACT_ERRNO"}}}}};
  b.set_args({"sh", "-c", kProbe});
}

TEST(RuncCompare, SameViewFromInside) {
  test::Bundle bundle;
  configure(bundle);
  bundle.write_config();

  TempDir runc_root("vmrt-runc");
  RunResult runc = run_capture({"runc", "--root", runc_root.path().string(), "run", "--bundle",
                                bundle.dir().string(), "vmrt-compare"},
                               30s);
  ASSERT_FALSE(runc.timed_out);
  ASSERT_TRUE(runc.status.exited) << runc.status.to_string() << runc.err;
  ASSERT_EQ(runc.status.code, 3) << runc.err << runc.out;

  TempDir state("vmrt-state");
  ContainerOptions o;
  o.id = "vmrt-compare";
  o.spec = oci::parse_spec(bundle.config);
  o.bundle = bundle.dir();
  o.state_dir = state.path();
  o.cgroup_root = test::cgroup2_root();
  auto c = Container::create(std::move(o));
  c->start();
  std::string out = test::read_streams(c->init().stdio().out.get(), -1).out;
  ExitStatus status = c->wait();
  EXPECT_TRUE(status.exited);
  EXPECT_EQ(status.code, 3);
  EXPECT_EQ(out, runc.out);
  // The probe did run: the comparison is of something.
  for (const char* seen : {"pid 1\n", "FOO=bar\n", "NoNewPrivs:\t1", "Seccomp:\t2",
                           "Operation not permitted", "Read-only file system", "/dev/pts devpts"})
    EXPECT_NE(out.find(seen), std::string::npos) << seen << " in\n" << out;
}

}  // namespace
}  // namespace vmrt::agent
