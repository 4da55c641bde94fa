#include "sandbox/host_kvm.h"

#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <string>

#include "common/error.h"
#include "common/fd.h"

namespace vmrt::sandbox {
namespace {

constexpr const char* kRigHint = "run vmrt inside the test rig instead: tools/testvm -- vmrt ...";

bool cpu_has_hardware_virtualization() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  static const std::regex flag(R"(\b(vmx|svm)\b)");
  while (std::getline(in, line))
    if (line.rfind("flags", 0) == 0) return std::regex_search(line, flag);
  return false;
}

}  // namespace

void check_host_kvm() {
  UniqueFd kvm(::open("/dev/kvm", O_RDWR | O_CLOEXEC));
  if (!kvm) {
    int err = errno;
    throw Error(fmt::format("cannot open /dev/kvm: {}; vmrt needs KVM (load kvm_intel or kvm_amd "
                            "and run as root), or {}",
                            std::strerror(err), kRigHint),
                err);
  }
  namespace fs = std::filesystem;
  bool hardware_kvm = fs::exists("/sys/module/kvm_intel") || fs::exists("/sys/module/kvm_amd");
  if (!hardware_kvm || !cpu_has_hardware_virtualization())
    fail("this host's KVM cannot boot a normal guest kernel ({}); {}",
         fs::exists("/sys/module/kvm_pvm") ? "it is the paravirtual kvm_pvm"
                                           : "the CPU shows no VMX or SVM",
         kRigHint);
}

}  // namespace vmrt::sandbox
