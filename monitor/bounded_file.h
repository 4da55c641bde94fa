#pragma once
// Reading the small files the monitor looks at (state records, procfs)
// with a size bound, so that an unexpected huge file costs a clear error,
// not the monitor's memory.

#include <filesystem>
#include <optional>
#include <string>

namespace vmrt::monitor {

// The file's text; nullopt when it does not exist (or its process ended:
// ESRCH from procfs). Throws vmrt::Error when it is larger than `max` bytes
// or cannot be read.
std::optional<std::string> read_bounded(const std::filesystem::path& path, size_t max);

}  // namespace vmrt::monitor
