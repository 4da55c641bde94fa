#include "sandbox/cgroup_path.h"

#include <linux/limits.h>

#include <algorithm>
#include <vector>

#include "common/error.h"

namespace vmrt::sandbox {

namespace {

namespace fs = std::filesystem;

constexpr std::string_view kSlice = ".slice";

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t at; (at = s.find(sep, start)) != std::string::npos; start = at + 1)
    out.push_back(s.substr(start, at - start));
  out.push_back(s.substr(start));
  return out;
}

// One directory name: never "." or "..", a '/', a control character (the
// path is recorded one a line for the cleanup after a crash), or too long.
bool name_ok(const std::string& step) {
  return !step.empty() && step != "." && step != ".." && step.size() <= NAME_MAX &&
         std::none_of(step.begin(), step.end(),
                      [](unsigned char c) { return c == '/' || c < 0x20 || c == 0x7f; });
}

[[noreturn]] void refuse(const std::string& value, const std::string& why) {
  fail("linux.cgroupsPath \"{}\": {}", value, why);
}

}  // namespace

fs::path expand_slice(const std::string& slice) {
  if (slice.size() <= kSlice.size() || !slice.ends_with(kSlice) || !name_ok(slice))
    fail("invalid systemd slice name \"{}\": expected a name such as \"a-b.slice\"", slice);
  std::string name = slice.substr(0, slice.size() - kSlice.size());
  if (name == "-") return {};
  fs::path path;
  std::string prefix;
  for (const auto& part : split(name, '-')) {
    // "a--b.slice" and "-a.slice" name no parent.
    if (part.empty())
      fail("invalid systemd slice name \"{}\": an empty step between dashes", slice);
    path /= prefix + part + std::string(kSlice);
    prefix += part + "-";
  }
  return path;
}

fs::path cgroup_of_cgroups_path(const std::string& value) {
  if (value.empty()) refuse(value, "empty");
  if (value.size() >= PATH_MAX) refuse(value.substr(0, 64) + "...", "longer than a path may be");
  fs::path out;
  if (value.front() != '/' && value.find(':') != std::string::npos) {
    // slice:prefix:name; an empty slice is runc's system.slice.
    auto parts = split(value, ':');
    if (parts.size() != 3) refuse(value, "expected \"slice:prefix:name\" for a systemd cgroup");
    const std::string& slice = parts[0].empty() ? "system.slice" : parts[0];
    const std::string& prefix = parts[1];
    const std::string& name = parts[2];
    try {
      out = expand_slice(slice);
    } catch (const Error& e) {
      refuse(value, e.what());
    }
    // A slice name is a unit of its own; anything else becomes a scope.
    std::string unit = name.ends_with(kSlice) ? name
                       : prefix.empty()       ? name + ".scope"
                                              : prefix + "-" + name + ".scope";
    if (name.empty() || !name_ok(unit)) refuse(value, "not a unit name: \"" + unit + "\"");
    out /= unit;
  } else {
    std::string rest = value.front() == '/' ? value.substr(1) : value;
    if (rest.empty()) refuse(value, "the root cgroup, which a container cannot own");
    for (const auto& step : split(rest, '/')) {
      if (!name_ok(step))
        refuse(value, step.empty() ? "an empty step" : "a step \"" + step + "\" that is no name");
      out /= step;
    }
  }
  if (out.empty()) refuse(value, "the root cgroup, which a container cannot own");
  return out;
}

}  // namespace vmrt::sandbox
