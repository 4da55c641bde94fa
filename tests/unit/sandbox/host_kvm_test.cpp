// The three kinds of host vmrt meets (no /dev/kvm, a paravirtual KVM, hardware
// KVM) and the line it says for each, on a made-up host view.

#include "sandbox/host_kvm.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

#include "common/tempdir.h"

namespace vmrt::sandbox {
namespace {

using ::testing::HasSubstr;

class HostKvm : public ::testing::Test {
 protected:
  HostKvm() {
    view_.dev_kvm = dir_.path() / "kvm";
    view_.sys_module = dir_.path() / "module";
    view_.cpuinfo = dir_.path() / "cpuinfo";
    std::filesystem::create_directories(view_.sys_module);
    cpu_flags("fpu sse2 lm");
  }
  void dev_kvm() { std::ofstream(view_.dev_kvm).put('\0'); }
  void module(const char* name) { std::filesystem::create_directory(view_.sys_module / name); }
  void cpu_flags(const std::string& flags) {
    std::ofstream(view_.cpuinfo) << "processor\t: 0\nflags\t\t: " << flags << "\n";
  }

  TempDir dir_{"host-kvm"};
  HostKvmView view_;
};

TEST_F(HostKvm, NoDeviceIsSaidSoWithTheWayOut) {
  module("kvm");  // modules present, no device registered: still no KVM
  EXPECT_EQ(host_kvm_kind(view_), HostKvmKind::kNone);
  EXPECT_THAT(host_kvm_problem(view_), HasSubstr("this host has no " + view_.dev_kvm.string()));
  EXPECT_THAT(host_kvm_problem(view_), HasSubstr("tools/testvm"));
}

TEST_F(HostKvm, ParavirtualKvmCannotBootAGuest) {
  dev_kvm();
  module("kvm");
  module("kvm_pvm");
  cpu_flags("fpu vmx lm");  // the flag alone does not make it hardware KVM
  EXPECT_EQ(host_kvm_kind(view_), HostKvmKind::kPvm);
  EXPECT_THAT(host_kvm_problem(view_), HasSubstr("paravirtual kvm_pvm"));
}

TEST_F(HostKvm, HardwareKvmBootsGuests) {
  dev_kvm();
  module("kvm_amd");
  cpu_flags("fpu svm lm");
  EXPECT_EQ(host_kvm_kind(view_), HostKvmKind::kHardware);
  EXPECT_EQ(host_kvm_problem(view_), "");
}

TEST_F(HostKvm, AKvmModuleWithoutVmxOrSvmIsNotHardwareKvm) {
  dev_kvm();
  module("kvm_intel");
  EXPECT_EQ(host_kvm_kind(view_), HostKvmKind::kOther);
  EXPECT_THAT(host_kvm_problem(view_), HasSubstr("no VMX or SVM"));
}

TEST_F(HostKvm, ADeviceThatCannotBeOpenedSaysWhy) {
  // A directory in its place: no process, root included, opens it read-write.
  std::filesystem::create_directory(view_.dev_kvm);
  EXPECT_EQ(host_kvm_kind(view_), HostKvmKind::kClosed);
  EXPECT_THAT(host_kvm_problem(view_),
              HasSubstr("cannot open " + view_.dev_kvm.string() + ": Is a directory"));
}

}  // namespace
}  // namespace vmrt::sandbox
