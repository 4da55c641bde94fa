#pragma once
// Who may call the agent: the host, and no one else. The agent's vsock port
// is bound on every CID, so with vsock loopback a guest process (root in a
// container included) could connect through CID 1 or the guest's own CID
// and have the whole Agent API. The guest kernel is built without loopback;
// the acceptor refuses every peer but the host all the same, and logs the
// refusals, a bounded number of lines per period whatever a guest process
// does.

#include <linux/vm_sockets.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace vmrt::agent {

// Whether a connection from `peer` (the address accept gave) is the host's.
bool is_host_peer(const sockaddr_vm& peer);

class RefusalLog {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr size_t kLinesPerPeriod = 10;
  static constexpr Clock::duration kPeriod = std::chrono::minutes(1);

  // The line to log about refusing `peer` at `now`, or nullopt when this
  // period has had its kLinesPerPeriod lines; the refusals left unsaid are
  // counted in the next line.
  std::optional<std::string> refused(const sockaddr_vm& peer, Clock::time_point now);

 private:
  std::optional<Clock::time_point> period_start_;
  size_t lines_ = 0;     // in the current period
  uint64_t unsaid_ = 0;  // refusals since the last line
};

}  // namespace vmrt::agent
