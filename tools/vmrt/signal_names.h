#pragma once
// Signals as `vmrt kill` takes them, like runc: a number ("9"), a name with
// or without the SIG prefix ("KILL", "SIGKILL", case-insensitive), or a
// real-time signal ("RTMIN+3", "SIGRTMAX-1").

#include <string>
#include <string_view>

namespace vmrt::cli {

// Throws vmrt::Error "unknown signal \"FOO\"" for anything else, including 0
// and numbers above 64.
int parse_signal(std::string_view text);

// "SIGKILL" for 9; "SIGRTMIN+3" for real-time signals; "signal 99" otherwise.
std::string signal_name(int sig);

}  // namespace vmrt::cli
