#pragma once
// What the runtime configuration tests share: the file name their errors
// name, the parse and annotation error helpers, an operator who allows every
// annotation, and a file writer.

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <map>
#include <string>

#include "sandbox/config.h"
#include "tests/support/error_text.h"

namespace vmrt::sandbox {

// gtest's printer for EXPECT_EQ on two configurations: every key by name.
inline void PrintTo(const RuntimeConfig& c, std::ostream* os) { *os << to_json(c).dump(); }

namespace config_test {

using test::error_text;

constexpr const char* kFile = "/etc/vmrt/config.toml";

inline std::string parse_error(std::string_view text) {
  return error_text([&] { parse_config(text, kFile); });
}

// An operator who allows every annotation, kernel parameters included, with
// room for any size: what is left to refuse are bad values.
inline RuntimeConfig open_policy() {
  RuntimeConfig c = default_config();
  c.annotations.allowed = {"vcpus", "memory_mib", "fs_cache", "boot_timeout_s"};
  c.annotations.kernel_params = true;
  c.annotations.max_vcpus = 64;
  c.annotations.max_memory_mib = 1 << 20;
  return c;
}

inline std::string annotation_error(const std::map<std::string, std::string>& annotations,
                                    const RuntimeConfig& config = open_policy()) {
  return error_text([&] { apply_annotations(config, annotations); });
}

inline void write(const std::filesystem::path& path, const std::string& text, mode_t mode = 0644) {
  std::ofstream(path) << text;
  ASSERT_EQ(::chmod(path.c_str(), mode), 0);
}

}  // namespace config_test
}  // namespace vmrt::sandbox
