#pragma once
// What the harness's sources (containerd_*.cpp) share: where containerd
// keeps shim sockets, directory listings, and lines of command output.

#include <cstddef>
#include <filesystem>
#include <set>
#include <sstream>
#include <string>
#include <system_error>
#include <vector>

namespace vmrt::containerd_test::detail {

// containerd 1.6 puts every shim's ttrpc socket here, whatever its own state
// directory (runtime/v2/shim: SocketAddress).
inline const std::filesystem::path kShimSocketDir = "/run/containerd/s";

inline std::set<std::filesystem::path> directory_entries(const std::filesystem::path& dir) {
  std::set<std::filesystem::path> found;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) found.insert(e.path());
  return found;
}

inline std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) lines.push_back(line);
  return lines;
}

// The last `n` non-empty lines of `text`, each ending in '\n'.
inline std::string last_lines(const std::string& text, size_t n) {
  std::vector<std::string> all = lines_of(text);
  std::string tail;
  for (size_t i = all.size() > n ? all.size() - n : 0; i < all.size(); ++i) tail += all[i] + "\n";
  return tail;
}

inline int pid_of(const std::string& process_line) { return std::stoi(process_line); }

}  // namespace vmrt::containerd_test::detail
