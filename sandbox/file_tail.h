#pragma once
// The last lines of a log file, for error messages that must show what the
// guest or the VMM said last (a boot that never reached the agent).

#include <cstddef>
#include <filesystem>
#include <string>

namespace vmrt::sandbox {

// At most `lines` last lines of `path` (reading at most its last 64 KiB),
// without carriage returns; "" when the file is missing or empty.
std::string file_tail(const std::filesystem::path& path, std::size_t lines = 20);

}  // namespace vmrt::sandbox
