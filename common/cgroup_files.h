#pragma once
// The interface files of a cgroup v2 directory, as both the guest agent
// (containers' cgroups) and the host sandbox (the VMM's cgroup) use them.

#include <filesystem>
#include <set>
#include <string>

namespace vmrt {

// The whole file; throws vmrt::Error naming it.
std::string read_cgroup_file(const std::filesystem::path& path);

// One write(2) of `value`: cgroup files take one value per write and
// report a bad one there. Throws vmrt::Error naming the value and the file.
void write_cgroup_file(const std::filesystem::path& path, const std::string& value);

// The space-separated words of a file such as cgroup.controllers.
std::set<std::string> cgroup_words(const std::string& text);

}  // namespace vmrt
