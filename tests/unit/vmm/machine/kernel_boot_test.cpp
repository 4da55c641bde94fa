#include "vmm/machine/kernel_boot.h"

#include <gtest/gtest.h>

namespace vmrt::vmm {
namespace {

TEST(CmdlineForCpus, SaysHowManyToStartOnlyWhenSomeWait) {
  EXPECT_EQ(cmdline_for_cpus("console=ttyS0", 2, 2), "console=ttyS0");
  EXPECT_EQ(cmdline_for_cpus("console=ttyS0", 1, 4), "console=ttyS0 maxcpus=1");
  EXPECT_EQ(cmdline_for_cpus("", 3, 8), "maxcpus=3");
  // Last: Linux takes the last maxcpus= it reads.
  EXPECT_EQ(cmdline_for_cpus("maxcpus=8 quiet", 2, 4), "maxcpus=8 quiet maxcpus=2");
}

}  // namespace
}  // namespace vmrt::vmm
