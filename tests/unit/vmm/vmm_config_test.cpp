#include "vmm/config/vmm_config.h"

#include <gtest/gtest.h>

#include <string>

#include "common/error.h"
#include "tests/support/error_text.h"

namespace vmrt::vmm {
namespace {

using test::error_text;

TEST(VmmConfig, ReadsEveryKey) {
  auto c = config_from_json(nlohmann::json::parse(R"({"kernel":"/k","initrd":"/i","cmdline":"x",
      "mem_mib":256,"cpus":2,"hugepages":true,"console":"none","control_socket":"/s","log_level":"debug"})"),
                            "test.json");
  EXPECT_EQ(c.kernel, "/k");
  EXPECT_EQ(c.mem_mib, 256u);
  EXPECT_EQ(c.cpus, 2u);
  EXPECT_TRUE(c.hugepages);
  EXPECT_EQ(c.console, "none");
  EXPECT_EQ(c.control_socket, "/s");
}

TEST(VmmConfig, WrongTypesAndUnknownKeysNameTheKey) {
  EXPECT_NE(error_text([] {
              config_from_json(nlohmann::json::parse(R"({"cpus":"two"})"), "c.json");
            }).find("\"cpus\""),
            std::string::npos);
  EXPECT_NE(error_text([] {
              config_from_json(nlohmann::json::parse(R"({"mem_mib":-5})"), "c.json");
            }).find("mem_mib"),
            std::string::npos);
  EXPECT_NE(error_text([] {
              config_from_json(nlohmann::json::parse(R"({"memory":5})"), "c.json");
            }).find("unknown key \"memory\""),
            std::string::npos);
  EXPECT_NE(
      error_text([] { config_from_json(nlohmann::json::parse("[1]"), "c.json"); }).find("object"),
      std::string::npos);
}

TEST(VmmConfig, ValidationNamesTheProblem) {
  VmmConfig c;
  EXPECT_NE(error_text([&] { validate(c); }).find("no guest kernel"), std::string::npos);
  c.kernel = "/nonexistent/vmlinux";
  EXPECT_NE(error_text([&] { validate(c); }).find("/nonexistent/vmlinux"), std::string::npos);
  c.kernel = "/proc/self/exe";
  c.mem_mib = 0;
  EXPECT_NE(error_text([&] { validate(c); }).find("too small"), std::string::npos);
  c.mem_mib = uint64_t{1} << 40;
  EXPECT_NE(error_text([&] { validate(c); }).find("more than this host"), std::string::npos);
  c.mem_mib = 128;
  c.cpus = 0;
  EXPECT_NE(error_text([&] { validate(c); }).find("at least one vCPU"), std::string::npos);
  c.cpus = 1000;
  EXPECT_NE(error_text([&] { validate(c); }).find("at most"), std::string::npos);
  c.cpus = 2;
  EXPECT_EQ(error_text([&] { validate(c); }), "");
}

TEST(VmmConfig, MissingOrMalformedFileIsAClearError) {
  EXPECT_NE(
      error_text([] { load_config_file("/nonexistent/vmm.json"); }).find("/nonexistent/vmm.json"),
      std::string::npos);
  EXPECT_NE(error_text([] { load_config_file("/proc/self/status"); }).find("not valid JSON"),
            std::string::npos);
}

}  // namespace
}  // namespace vmrt::vmm
