#pragma once
// A place to bind-mount something onto: what bind mounts on the host (the
// sandbox's share) and in the VMM's jail both need first.

#include <filesystem>

namespace vmrt {

// Creates `target` and its parents as a mount point for `source`: a
// directory for a directory, an empty file for anything else (a file, a
// device). Throws vmrt::Error naming the path when `source` does not exist
// or `target` cannot be made.
void make_mount_point(const std::filesystem::path& source, const std::filesystem::path& target);

}  // namespace vmrt
