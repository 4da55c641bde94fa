// `vmrt check` where guests boot (the rig's nested hardware KVM) with the
// build tree's configuration: every required check passes.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

#include "tests/rig/tools/vmrt/vmrt_cli.h"

namespace vmrt::cli::test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(VmrtCheck, PassesWhereGuestsBoot) {
  VmrtCli cli;
  auto containerd = cli.dir() / "containerd.toml";
  std::ofstream(containerd) << R"(version = 2
[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.vmrt]
  runtime_type = "io.containerd.vmrt.v1"
)";
  RunResult r = cli.run({"check", "--containerd-config", containerd.string()});
  EXPECT_TRUE(r.status.success()) << r.status.to_string() << "\n" << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("ok   kvm: /dev/kvm usable"));
  EXPECT_THAT(r.out, HasSubstr("ok   kernel: "));
  EXPECT_THAT(r.out, HasSubstr("ok   image: "));
  EXPECT_THAT(r.out, HasSubstr("ok   containerd: runtime handler \"vmrt\""));
  EXPECT_THAT(r.out, Not(HasSubstr("FAIL")));
}

}  // namespace
}  // namespace vmrt::cli::test
