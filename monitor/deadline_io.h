#pragma once
// Socket I/O against a deadline, for the monitor's questions to VMMs and
// agents at scrape time: a peer that does not answer, answers slowly or
// never stops costs at most the time left and what the caller bounds.
// Every function takes a non-blocking socket and throws vmrt::Error naming
// `what` when the deadline passes or the socket fails.

#include <poll.h>

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

namespace vmrt::monitor {

using Clock = std::chrono::steady_clock;

// Waits for `events` on `fd` until `deadline`.
void wait_for(int fd, short events, Clock::time_point deadline, const std::string& what);
// Sends all of `bytes`.
void send_all(int fd, std::string_view bytes, Clock::time_point deadline, const std::string& what);
// Receives exactly `n` bytes (the caller bounds `n`); the peer closing
// before is an error.
std::string receive_exact(int fd, size_t n, Clock::time_point deadline, const std::string& what);

}  // namespace vmrt::monitor
