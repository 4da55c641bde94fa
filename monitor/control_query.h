#pragma once
// Asking a VMM's control socket (vmm/control/control_protocol.h) for its
// figures at scrape time, bounded in time and in memory: a VMM that does
// not answer, answers slowly or answers without end costs the scrape at
// most `timeout` and a fixed amount of memory.

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <vector>

namespace vmrt::monitor {

// The longest reply line taken; a VM's counters are a few KiB.
inline constexpr size_t kMaxControlReply = 256 * 1024;

// Sends each of `requests` in turn on one connection and returns the reply
// objects, in order. Everything (connecting included: a listener whose
// backlog is full is refused, not waited for) happens within `timeout`.
// Throws vmrt::Error for no socket, a timeout, a reply longer than
// kMaxControlReply, one that is not a JSON object, or one whose "ok" is
// not true (with the VMM's "error").
std::vector<nlohmann::json> query_control(const std::filesystem::path& socket,
                                          const std::vector<nlohmann::json>& requests,
                                          std::chrono::milliseconds timeout);

}  // namespace vmrt::monitor
