#pragma once
// Where vmrt logs: --log FILE (default stderr) in --log-format text or json,
// at info level (debug with --debug). JSON lines carry runc's keys (level,
// msg, time) so that tools reading runc's log read ours.

#include <filesystem>

#include "tools/vmrt/globals.h"

namespace vmrt::cli {

void setup_logging(const Globals& g);

// In the keeper, whose stderr belongs to the container: --log when given,
// else `fallback` (a file in the container's state directory).
void redirect_log_for_keeper(const Globals& g, const std::filesystem::path& fallback);

}  // namespace vmrt::cli
