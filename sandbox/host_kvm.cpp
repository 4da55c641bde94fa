#include "sandbox/host_kvm.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <regex>

#include "common/error.h"
#include "common/fd.h"

namespace vmrt::sandbox {
namespace {

namespace fs = std::filesystem;

constexpr const char* kRigHint = "run vmrt inside the test rig instead: tools/testvm -- vmrt ...";

bool cpu_has_hardware_virtualization(const fs::path& cpuinfo) {
  std::ifstream in(cpuinfo);
  std::string line;
  static const std::regex flag(R"(\b(vmx|svm)\b)");
  while (std::getline(in, line))
    if (line.rfind("flags", 0) == 0) return std::regex_search(line, flag);
  return false;
}

}  // namespace

HostKvmKind host_kvm_kind(const HostKvmView& view) {
  std::error_code ec;
  if (!fs::exists(view.dev_kvm, ec)) return HostKvmKind::kNone;
  if (!UniqueFd(::open(view.dev_kvm.c_str(), O_RDWR | O_CLOEXEC))) return HostKvmKind::kClosed;
  if (fs::exists(view.sys_module / "kvm_pvm", ec)) return HostKvmKind::kPvm;
  bool hardware_module =
      fs::exists(view.sys_module / "kvm_intel", ec) || fs::exists(view.sys_module / "kvm_amd", ec);
  if (hardware_module && cpu_has_hardware_virtualization(view.cpuinfo))
    return HostKvmKind::kHardware;
  return HostKvmKind::kOther;
}

std::string host_kvm_problem(const HostKvmView& view) {
  switch (host_kvm_kind(view)) {
    case HostKvmKind::kHardware:
      return {};
    case HostKvmKind::kNone:
      return fmt::format(
          "this host has no {}: vmrt needs KVM (load kvm_intel or kvm_amd, or enable nested "
          "virtualization for this machine), or {}",
          view.dev_kvm.string(), kRigHint);
    case HostKvmKind::kClosed: {
      UniqueFd again(::open(view.dev_kvm.c_str(), O_RDWR | O_CLOEXEC));  // for its errno
      int err = again ? 0 : errno;
      return fmt::format("cannot open {}: {}; vmrt needs KVM and runs as root, or {}",
                         view.dev_kvm.string(), std::strerror(err), kRigHint);
    }
    case HostKvmKind::kPvm:
      return fmt::format(
          "this host's KVM cannot boot a normal guest kernel (it is the paravirtual kvm_pvm); {}",
          kRigHint);
    case HostKvmKind::kOther:
      break;
  }
  return fmt::format(
      "this host's KVM cannot boot a normal guest kernel (the CPU shows no VMX or SVM); {}",
      kRigHint);
}

void check_host_kvm() {
  std::string problem = host_kvm_problem();
  if (!problem.empty()) throw Error(problem);
}

}  // namespace vmrt::sandbox
