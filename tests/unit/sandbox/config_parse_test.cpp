// The runtime configuration file's parser: the documented default file,
// every key, and every error the TOML parser gives.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/error.h"
#include "common/tempdir.h"
#include "sandbox/config.h"
#include "tests/unit/sandbox/config_test_support.h"

namespace vmrt::sandbox {
namespace {

using namespace config_test;
using ::testing::HasSubstr;

TEST(RuntimeConfig, DefaultsAreTheInstallPaths) {
  RuntimeConfig d = default_config();
  EXPECT_TRUE(d.vmm.is_absolute());
  EXPECT_EQ(d.vmm.filename(), "vmrt-vmm");
  EXPECT_EQ(d.kernel.filename(), "vmlinux");
  EXPECT_EQ(d.image.filename(), "initramfs.cpio.gz");
  EXPECT_EQ(d.kernel.parent_path(), d.image.parent_path());
  EXPECT_TRUE(d.source.empty());
}

TEST(RuntimeConfig, DocumentedDefaultFileParsesToTheDefaults) {
  // Parsed over a base that differs in every field, so that a key missing
  // from the documented file shows up.
  RuntimeConfig other;
  other.vmm = "/x/vmm";
  other.kernel = "/x/kernel";
  other.image = "/x/image";
  other.kernel_params = "x=1";
  other.vcpus = 7;
  other.memory_mib = 999;
  other.boot_timeout = std::chrono::seconds(9);
  other.fs_cache = "none";
  other.log_level = "off";
  other.annotations.allowed = {"vcpus"};
  other.annotations.kernel_params = true;
  other.jail = false;
  other.jail_uid = 7;
  other.jail_gid = 7;
  other.cgroup_parent = "x";
  other.debug_console = true;
  RuntimeConfig parsed = parse_config(default_config_toml(), "default", other);
  // The maxima come from the host: the documented file shows them only as
  // comments, so they keep the base's.
  RuntimeConfig expected = default_config();
  expected.annotations.max_vcpus = other.annotations.max_vcpus;
  expected.annotations.max_memory_mib = other.annotations.max_memory_mib;
  expected.source = "default";
  EXPECT_EQ(parsed, expected);
  EXPECT_EQ(parsed.source, "default");
}

TEST(RuntimeConfig, ReadsEveryKey) {
  RuntimeConfig c = parse_config(R"(
[hypervisor]
vmm = "/opt/vmrt/vmm"
kernel = "/opt/vmrt/vmlinux"
image = "/opt/vmrt/image.cpio.gz"
kernel_params = "quiet loglevel=3"
vcpus = 4
memory_mib = 1024
boot_timeout_s = 120
[virtiofs]
cache = "always"
[log]
level = "debug"
)",
                                 kFile);
  EXPECT_EQ(c.vmm, "/opt/vmrt/vmm");
  EXPECT_EQ(c.kernel, "/opt/vmrt/vmlinux");
  EXPECT_EQ(c.image, "/opt/vmrt/image.cpio.gz");
  EXPECT_EQ(c.kernel_params, "quiet loglevel=3");
  EXPECT_EQ(c.vcpus, 4u);
  EXPECT_EQ(c.memory_mib, 1024u);
  EXPECT_EQ(c.boot_timeout, std::chrono::seconds(120));
  EXPECT_EQ(c.fs_cache, "always");
  EXPECT_EQ(c.log_level, "debug");
  EXPECT_EQ(c.source, kFile);
}

TEST(RuntimeConfig, MissingKeysKeepTheBase) {
  RuntimeConfig c = parse_config("[hypervisor]\nvcpus = 2\n", kFile);
  RuntimeConfig expected = default_config();
  expected.vcpus = 2;
  expected.source = kFile;
  EXPECT_EQ(c, expected);
  expected.vcpus = default_config().vcpus;
  EXPECT_EQ(parse_config("", kFile), expected);
  // Dotted keys name the same table.
  EXPECT_EQ(parse_config("hypervisor.memory_mib = 512\n", kFile).memory_mib, 512u);
}

TEST(RuntimeConfig, RangeLimitsAreInclusive) {
  for (auto [text, ok] : {std::pair{"vcpus = 1", true},
                          {"vcpus = 64", true},
                          {"memory_mib = 64", true},
                          {"memory_mib = 1048576", true},
                          {"boot_timeout_s = 1", true},
                          {"boot_timeout_s = 3600", true},
                          {"vcpus = 0", false},
                          {"vcpus = 65", false},
                          {"vcpus = -1", false},
                          {"memory_mib = 63", false},
                          {"memory_mib = 1048577", false},
                          {"boot_timeout_s = 0", false},
                          {"boot_timeout_s = 3601", false}})
    EXPECT_EQ(parse_error(std::string("[hypervisor]\n") + text).empty(), ok) << text;
}

TEST(RuntimeConfigErrors, UnknownKeyNamesFileLineColumnAndKey) {
  EXPECT_EQ(parse_error("[hypervisor]\nvcpus = 1\n  vcpu = 2\n"),
            "/etc/vmrt/config.toml:3:3: unknown key \"hypervisor.vcpu\"");
  EXPECT_EQ(parse_error("vcpus = 2\n"), "/etc/vmrt/config.toml:1:1: unknown key \"vcpus\"");
  EXPECT_EQ(parse_error("[log]\nlevel = \"info\"\nfile = \"/tmp/x\"\n"),
            "/etc/vmrt/config.toml:3:1: unknown key \"log.file\"");
}

TEST(RuntimeConfigErrors, UnknownTable) {
  EXPECT_EQ(parse_error("[hypervisors]\nvcpus = 2\n"),
            "/etc/vmrt/config.toml:1:2: unknown table \"hypervisors\"");
  EXPECT_THAT(parse_error("[hypervisor.extra]\nx = 1\n"),
              HasSubstr("unknown key \"hypervisor.extra\""));
}

TEST(RuntimeConfigErrors, WrongType) {
  EXPECT_EQ(parse_error("[hypervisor]\nvcpus = \"2\"\n"),
            "/etc/vmrt/config.toml:2:9: hypervisor.vcpus: expected an integer from 1 to 64, got "
            "a string");
  EXPECT_EQ(parse_error("[hypervisor]\nmemory_mib = 256.0\n"),
            "/etc/vmrt/config.toml:2:14: hypervisor.memory_mib: expected an integer from 64 to "
            "1048576, got a float");
  EXPECT_EQ(parse_error("[hypervisor]\nvmm = 1\n"),
            "/etc/vmrt/config.toml:2:7: hypervisor.vmm: expected an absolute path, got an integer");
  EXPECT_EQ(
      parse_error("[hypervisor]\nkernel_params = [\"quiet\"]\n"),
      "/etc/vmrt/config.toml:2:17: hypervisor.kernel_params: expected a string, got an array");
  EXPECT_EQ(parse_error("[log]\nlevel = true\n"),
            "/etc/vmrt/config.toml:2:9: log.level: expected one of trace, debug, info, warn, "
            "error, critical, off, got a boolean");
  EXPECT_EQ(parse_error("hypervisor = 3\n"),
            "/etc/vmrt/config.toml:1:1: hypervisor: expected a table, got an integer");
  EXPECT_THAT(parse_error("[[virtiofs]]\ncache = \"none\"\n"),
              HasSubstr("virtiofs: expected a table, got an array"));
}

TEST(RuntimeConfigErrors, OutOfRange) {
  EXPECT_EQ(
      parse_error("[hypervisor]\nvcpus = 65\n"),
      "/etc/vmrt/config.toml:2:9: hypervisor.vcpus: expected an integer from 1 to 64, got 65");
  EXPECT_EQ(parse_error("[hypervisor]\nmemory_mib = 32\n"),
            "/etc/vmrt/config.toml:2:14: hypervisor.memory_mib: expected an integer from 64 to "
            "1048576, got 32");
  EXPECT_EQ(parse_error("[hypervisor]\nboot_timeout_s = 0\n"),
            "/etc/vmrt/config.toml:2:18: hypervisor.boot_timeout_s: expected an integer from 1 "
            "to 3600, got 0");
}

TEST(RuntimeConfigErrors, BadEnum) {
  EXPECT_EQ(parse_error("[virtiofs]\ncache = \"sometimes\"\n"),
            "/etc/vmrt/config.toml:2:9: virtiofs.cache: expected one of none, auto, always, got "
            "\"sometimes\"");
  // spdlog's aliases are not part of the documented set.
  EXPECT_THAT(parse_error("[log]\nlevel = \"warning\"\n"),
              HasSubstr("log.level: expected one of trace, debug, info, warn, error, critical, "
                        "off, got \"warning\""));
}

TEST(RuntimeConfigErrors, RelativePathAndControlCharacters) {
  EXPECT_EQ(parse_error("[hypervisor]\nkernel = \"vmlinux\"\n"),
            "/etc/vmrt/config.toml:2:10: hypervisor.kernel: expected an absolute path, got "
            "\"vmlinux\"");
  EXPECT_THAT(parse_error("[hypervisor]\nimage = \"\"\n"),
              HasSubstr("hypervisor.image: expected an absolute path"));
  EXPECT_THAT(parse_error("[hypervisor]\nkernel_params = \"a\\nb\"\n"),
              HasSubstr("hypervisor.kernel_params: expected printable ASCII"));
}

TEST(RuntimeConfigErrors, SyntaxErrorNamesTheLine) {
  std::string e = parse_error("[hypervisor]\nvcpus = 2\nmemory_mib = = 3\n");
  EXPECT_THAT(e, HasSubstr("/etc/vmrt/config.toml:3:"));
  e = parse_error("[hypervisor]\nvcpus = 1\nvcpus = 2\n");
  EXPECT_THAT(e, HasSubstr("/etc/vmrt/config.toml:3:")) << "a key given twice";
}

TEST(RuntimeConfigErrors, AnnotationPolicyKeys) {
  EXPECT_EQ(parse_error("[annotations]\nallowed = \"vcpus\"\n"),
            "/etc/vmrt/config.toml:2:11: annotations.allowed: expected an array of vcpus, "
            "memory_mib, fs_cache, boot_timeout_s, got a string");
  EXPECT_THAT(parse_error("[annotations]\nallowed = [\"vmm\"]\n"),
              HasSubstr("annotations.allowed: expected an array of vcpus, memory_mib, fs_cache, "
                        "boot_timeout_s, got \"vmm\""));
  EXPECT_THAT(parse_error("[annotations]\nallowed = [1]\n"), HasSubstr("got an integer in it"));
  EXPECT_THAT(parse_error("[annotations]\nkernel_params = \"yes\"\n"),
              HasSubstr("annotations.kernel_params: expected true or false, got a string"));
  EXPECT_THAT(parse_error("[annotations]\nmax_vcpus = 65\n"),
              HasSubstr("annotations.max_vcpus: expected an integer from 1 to 64, got 65"));
  EXPECT_THAT(parse_error("[annotations]\nmax_memory_mib = 0\n"),
              HasSubstr("annotations.max_memory_mib: expected an integer from 64 to 1048576"));
  EXPECT_THAT(parse_error("[annotations]\nmax_cpus = 2\n"),
              HasSubstr("unknown key \"annotations.max_cpus\""));
}

// The one way the CLI and the shim get a sandbox's configuration.
TEST(RuntimeConfig, ReadsTheJailTable) {
  RuntimeConfig c = parse_config(
      "[jail]\nenabled = false\nuid = 4000\ngid = 4001\ncgroup_parent = \"machine.slice/vmrt\"\n",
      kFile);
  EXPECT_FALSE(c.jail);
  EXPECT_EQ(c.jail_uid, 4000u);
  EXPECT_EQ(c.jail_gid, 4001u);
  EXPECT_EQ(c.cgroup_parent, "machine.slice/vmrt");
  EXPECT_EQ(parse_config("[jail]\ncgroup_parent = \"\"\n", kFile).cgroup_parent, "");
}

TEST(RuntimeConfig, RefusesBadJailValues) {
  auto error = [](const std::string& text) {
    try {
      parse_config(text, kFile);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_THAT(error("[jail]\nuid = 0\n"), HasSubstr("jail.uid: expected an integer from 1"));
  EXPECT_THAT(error("[jail]\nenabled = 1\n"), HasSubstr("jail.enabled: expected true or false"));
  EXPECT_THAT(error("[jail]\ncgroup_parent = \"../escape\"\n"),
              HasSubstr("jail.cgroup_parent: expected a cgroup path relative"));
  EXPECT_THAT(error("[jail]\ncgroup_parent = \"/abs\"\n"), HasSubstr("jail.cgroup_parent"));
  EXPECT_THAT(error("[jail]\nuser = 5\n"), HasSubstr("unknown key"));
}

// The debug console is the operator's switch: off unless the file says so
// in so many words, and never a pod's.
TEST(RuntimeConfig, DebugConsoleIsOffUnlessTheFileTurnsItOn) {
  EXPECT_FALSE(default_config().debug_console);
  EXPECT_FALSE(parse_config("[hypervisor]\nvcpus = 2\n", kFile).debug_console);
  EXPECT_FALSE(parse_config("[debug]\nconsole = false\n", kFile).debug_console);
  RuntimeConfig on = parse_config("[debug]\nconsole = true\n", kFile);
  EXPECT_TRUE(on.debug_console);
  EXPECT_EQ(to_json(on)["debug_console"], true);
  std::string file = default_config_toml();
  EXPECT_THAT(file.substr(file.find("[debug]\n")), HasSubstr("\nconsole = false\n"));
}

TEST(RuntimeConfigErrors, DebugConsoleTakesOnlyABoolean) {
  for (const char* bad : {"\"yes\"", "1", "\"true\""})
    EXPECT_THAT(parse_error(std::string("[debug]\nconsole = ") + bad + "\n"),
                HasSubstr("debug.console: expected true or false"))
        << bad;
  EXPECT_THAT(parse_error("[debug]\nshell = true\n"), HasSubstr("unknown key \"debug.shell\""));
  RuntimeConfig open = parse_config("[annotations]\nallowed = [\"vcpus\"]\n", kFile);
  EXPECT_THROW(apply_annotations(open, {{"io.vmrt.config.debug_console", "true"}}), Error);
  EXPECT_FALSE(apply_annotations(open, {}).debug_console);
}

}  // namespace
}  // namespace vmrt::sandbox
