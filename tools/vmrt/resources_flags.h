#pragma once
// `vmrt update`: the OCI linux.resources object to apply, from --resources
// (a file, or "-" for stdin) with runc's individual flags laid over it.

#include <nlohmann/json.hpp>

#include "tools/vmrt/commands.h"

namespace vmrt::cli {

// Throws vmrt::Error naming the flag for a value that is not a number (or a
// size such as "512m" for the memory flags) and when nothing is to change.
nlohmann::json resources_from_flags(const UpdateArgs& a);

// "512m", "1G", "4096" -> bytes; "-1" -> -1 (unlimited). Throws otherwise.
int64_t parse_bytes(const std::string& text, const std::string& flag);

}  // namespace vmrt::cli
