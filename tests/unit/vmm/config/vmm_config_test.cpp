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

TEST(VmmConfig, RestoreCopyGoesWithRestoreOnly) {
  VmmConfig c = config_from_json(nlohmann::json::parse(R"({"restore_copy":true})"), "c.json");
  EXPECT_TRUE(c.restore_copy);
  c.kernel = "/proc/self/exe";
  EXPECT_NE(error_text([&] { validate(c); }).find("--restore-copy applies to a VM restored"),
            std::string::npos);
  c.restore_copy = false;
  EXPECT_EQ(error_text([&] { validate(c); }), "");
}

TEST(VmmConfig, MaxCpusIsAtLeastCpusAndBounded) {
  EXPECT_EQ(VmmConfig{}.max_cpus, 0u) << "0: as many as cpus";
  auto c = config_from_json(nlohmann::json::parse(R"({"cpus":2,"max_cpus":8})"), "c.json");
  EXPECT_EQ(c.cpus, 2u);
  EXPECT_EQ(c.max_cpus, 8u);
  c.kernel = "/proc/self/exe";
  EXPECT_EQ(error_text([&] { validate(c); }), "");
  c.max_cpus = 1;
  EXPECT_NE(error_text([&] { validate(c); }).find("--max-cpus 1 is less than --cpus 2"),
            std::string::npos);
  c.max_cpus = 255;
  EXPECT_NE(error_text([&] { validate(c); }).find("at most 254"), std::string::npos);
  c.max_cpus = 254;
  EXPECT_EQ(error_text([&] { validate(c); }), "");
  EXPECT_NE(error_text([] {
              config_from_json(nlohmann::json::parse(R"({"max_cpus":-1})"), "c.json");
            }).find("max_cpus"),
            std::string::npos);
}

TEST(VmmConfig, HotplugMemoryIsOffByDefaultAndInMemoryBlocks) {
  VmmConfig c;
  EXPECT_EQ(c.hotplug_mib, 0u);
  c = config_from_json(nlohmann::json::parse(R"({"hotplug_mib":1024})"), "c.json");
  EXPECT_EQ(c.hotplug_mib, 1024u);
  c.kernel = "/proc/self/exe";
  EXPECT_EQ(error_text([&] { validate(c); }), "");
  c.hotplug_mib = 100;
  EXPECT_NE(error_text([&] { validate(c); }).find("not a multiple of 128 MiB"), std::string::npos);
  c.hotplug_mib = uint64_t{1} << 20;
  EXPECT_NE(error_text([&] { validate(c); }).find("1 TiB"), std::string::npos);
}

TEST(VmmConfig, SeccompIsOnByDefaultAndTakesOnOffOrLog) {
  EXPECT_EQ(VmmConfig{}.seccomp, "on");
  auto c = config_from_json(nlohmann::json::parse(R"({"seccomp":"log"})"), "c.json");
  EXPECT_EQ(c.seccomp, "log");
  c.kernel = "/proc/self/exe";
  EXPECT_EQ(error_text([&] { validate(c); }), "");
  c.seccomp = "strict";
  EXPECT_NE(error_text([&] { validate(c); }).find("seccomp \"strict\" is not one of on, off, log"),
            std::string::npos);
}

TEST(VmmConfig, MissingOrMalformedFileIsAClearError) {
  EXPECT_NE(
      error_text([] { load_config_file("/nonexistent/vmm.json"); }).find("/nonexistent/vmm.json"),
      std::string::npos);
  EXPECT_NE(error_text([] { load_config_file("/proc/self/status"); }).find("malformed JSON"),
            std::string::npos);
}

TEST(VmmConfig, ReadsTheDeviceKeys) {
  auto c = config_from_json(nlohmann::json::parse(R"({"fs_dir":"/d","fs_tag":"t","fs_cache":"none",
      "net_tap":"tap0","net_mac":"02:00:00:00:00:01"})"),
                            "test.json");
  EXPECT_EQ(c.fs_dir, "/d");
  EXPECT_EQ(c.fs_cache, "none");
  EXPECT_EQ(c.net_tap, "tap0");
  EXPECT_EQ(c.net_mac, "02:00:00:00:00:01");
  EXPECT_EQ(c.net_tap_fd, -1);
  c = config_from_json(nlohmann::json::parse(R"({"net_tap_fd":5})"), "test.json");
  EXPECT_EQ(c.net_tap_fd, 5);
  EXPECT_NE(error_text([] {
              config_from_json(nlohmann::json::parse(R"({"net_tap_fd":-1})"), "c.json");
            }).find("net_tap_fd"),
            std::string::npos);
}

TEST(VmmConfig, RefusesTwoTapsAClosedFdAndBadMacs) {
  VmmConfig c;
  c.kernel = "/proc/self/exe";
  c.net_tap = "tap0";
  c.net_tap_fd = 0;
  EXPECT_NE(error_text([&] { validate(c); }).find("not both"), std::string::npos);
  c.net_tap.clear();
  c.net_tap_fd = 1000000;
  EXPECT_NE(error_text([&] { validate(c); }).find("tap fd 1000000"), std::string::npos);
  c.net_tap_fd = -1;
  c.net_tap = "tap0";
  c.net_mac = "01:00:00:00:00:01";  // multicast
  EXPECT_NE(error_text([&] { validate(c); }).find("MAC address"), std::string::npos);
  c.net_mac = "02:00:00:00:00:01";
  EXPECT_NO_THROW(validate(c));
}

}  // namespace
}  // namespace vmrt::vmm
