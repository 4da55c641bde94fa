#pragma once
// A bundle's config.json with the least a create accepts (sh as root in /,
// root.path "rootfs") and the given annotations: for tests of what a create
// refuses before anything runs.

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

namespace vmrt::test {

inline void write_minimal_spec(const std::filesystem::path& bundle,
                               const nlohmann::json& annotations) {
  std::filesystem::create_directories(bundle);
  nlohmann::json spec = {
      {"ociVersion", "1.0.2"},
      {"process", {{"args", {"sh"}}, {"cwd", "/"}, {"user", {{"uid", 0}, {"gid", 0}}}}},
      {"root", {{"path", "rootfs"}}},
      {"annotations", annotations}};
  std::ofstream(bundle / "config.json") << spec.dump();
}

}  // namespace vmrt::test
