#include "vmm/security/roles.h"

namespace vmrt::vmm::security {

const char* role_name(ThreadRole role) {
  switch (role) {
    case ThreadRole::Vcpu:
      return "vcpu";
    case ThreadRole::Device:
      return "device";
    case ThreadRole::Control:
      return "control";
    case ThreadRole::SnapshotControl:
      return "snapshot-control";
    case ThreadRole::FileServer:
      return "file-server";
  }
  return "unknown";
}

std::optional<SeccompMode> parse_seccomp_mode(std::string_view text) {
  if (text == "on") return SeccompMode::On;
  if (text == "off") return SeccompMode::Off;
  if (text == "log") return SeccompMode::Log;
  return std::nullopt;
}

}  // namespace vmrt::vmm::security
