#include "agent/service/peer_check.h"

#include <fmt/format.h>

namespace vmrt::agent {

bool is_host_peer(const sockaddr_vm& peer) {
  return peer.svm_family == AF_VSOCK && peer.svm_cid == VMADDR_CID_HOST;
}

std::optional<std::string> RefusalLog::refused(const sockaddr_vm& peer, Clock::time_point now) {
  if (!period_start_ || now - *period_start_ >= kPeriod) {
    period_start_ = now;
    lines_ = 0;
  }
  if (lines_ == kLinesPerPeriod) {
    ++unsaid_;
    return std::nullopt;
  }
  ++lines_;
  std::string line = fmt::format(
      "refused a vsock connection from CID {} port {}: only the host (CID {}) may call the agent",
      peer.svm_cid, peer.svm_port, VMADDR_CID_HOST);
  if (unsaid_) line += fmt::format(" ({} more refused since the last such line)", unsaid_);
  unsaid_ = 0;
  return line;
}

}  // namespace vmrt::agent
