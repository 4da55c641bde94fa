// The runtime configuration: the documented default file, every error the
// TOML parser gives, annotation overrides and the file checks of validate().
#include "sandbox/config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>

#include "common/error.h"
#include "common/tempdir.h"
#include "tests/support/error_text.h"

namespace vmrt::sandbox {
namespace {

using test::error_text;
using ::testing::HasSubstr;

constexpr const char* kFile = "/etc/vmrt/config.toml";

std::string parse_error(std::string_view text) {
  return error_text([&] { parse_config(text, kFile); });
}

// An operator who allows every annotation, kernel parameters included, with
// room for any size: what is left to refuse are bad values.
RuntimeConfig open_policy() {
  RuntimeConfig c = default_config();
  c.annotations.allowed = {"vcpus", "memory_mib", "fs_cache", "boot_timeout_s"};
  c.annotations.kernel_params = true;
  c.annotations.max_vcpus = 64;
  c.annotations.max_memory_mib = 1 << 20;
  return c;
}

std::string annotation_error(const std::map<std::string, std::string>& annotations,
                             const RuntimeConfig& config = open_policy()) {
  return error_text([&] { apply_annotations(config, annotations); });
}

void write(const std::filesystem::path& path, const std::string& text, mode_t mode = 0644) {
  std::ofstream(path) << text;
  ASSERT_EQ(::chmod(path.c_str(), mode), 0);
}

void expect_same_values(const RuntimeConfig& a, const RuntimeConfig& b) {
  EXPECT_EQ(a.vmm, b.vmm);
  EXPECT_EQ(a.kernel, b.kernel);
  EXPECT_EQ(a.image, b.image);
  EXPECT_EQ(a.kernel_params, b.kernel_params);
  EXPECT_EQ(a.vcpus, b.vcpus);
  EXPECT_EQ(a.memory_mib, b.memory_mib);
  EXPECT_EQ(a.boot_timeout, b.boot_timeout);
  EXPECT_EQ(a.fs_cache, b.fs_cache);
  EXPECT_EQ(a.log_level, b.log_level);
  EXPECT_EQ(a.annotations.allowed, b.annotations.allowed);
  EXPECT_EQ(a.annotations.kernel_params, b.annotations.kernel_params);
}

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
  RuntimeConfig parsed = parse_config(default_config_toml(), "default", other);
  expect_same_values(parsed, default_config());
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
  expect_same_values(c, expected);
  expect_same_values(parse_config("", kFile), default_config());
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

TEST(RuntimeConfigFile, MissingFileIsAnErrorOnlyWhenNamed) {
  TempDir dir("config-test");
  std::filesystem::path missing = dir.path() / "none.toml";
  RuntimeConfig c = load_config(missing, false);
  expect_same_values(c, default_config());
  EXPECT_TRUE(c.source.empty());
  std::string e = error_text([&] { load_config(missing, true); });
  EXPECT_THAT(e, HasSubstr(missing.string()));
  EXPECT_THAT(e, HasSubstr("No such file or directory"));
}

TEST(RuntimeConfigFile, LoadsAndNamesTheFile) {
  TempDir dir("config-test");
  std::filesystem::path file = dir.path() / "config.toml";
  write(file, "[hypervisor]\nvcpus = 3\n");
  RuntimeConfig c = load_config(file, true);
  EXPECT_EQ(c.vcpus, 3u);
  EXPECT_EQ(c.source, file);
  write(file, "[hypervisor]\n\nvcpus = 300\n");
  EXPECT_THAT(error_text([&] { load_config(file, false); }),
              HasSubstr(file.string() + ":3:9: hypervisor.vcpus"));
  // A directory exists but is no file: an error even when optional.
  EXPECT_THAT(error_text([&] { load_config(dir.path(), false); }),
              HasSubstr("cannot read the runtime configuration"));
}

TEST(RuntimeConfigAnnotations, EachKey) {
  RuntimeConfig base = open_policy();
  base.kernel_params = "quiet";
  RuntimeConfig c = apply_annotations(base, {{"io.vmrt.config.vcpus", "4"},
                                             {"io.vmrt.config.memory_mib", "2048"},
                                             {"io.vmrt.config.kernel_params", "loglevel=7"},
                                             {"io.vmrt.config.fs_cache", "none"},
                                             {"io.vmrt.config.boot_timeout_s", "90"}});
  EXPECT_EQ(c.vcpus, 4u);
  EXPECT_EQ(c.memory_mib, 2048u);
  EXPECT_EQ(c.kernel_params, "quiet loglevel=7") << "the host's parameters stay";
  EXPECT_EQ(c.fs_cache, "none");
  EXPECT_EQ(c.boot_timeout, std::chrono::seconds(90));
  EXPECT_EQ(c.vmm, base.vmm);
  EXPECT_EQ(
      apply_annotations(open_policy(), {{"io.vmrt.config.kernel_params", "a=1"}}).kernel_params,
      "a=1");
}

TEST(RuntimeConfigAnnotations, OtherAnnotationsAreIgnored) {
  RuntimeConfig c = apply_annotations(default_config(), {{"io.kubernetes.cri.sandbox-id", "abc"},
                                                         {"io.vmrt.other", "x"},
                                                         {"io.vmrt.config", "x"},
                                                         {"org.example.vcpus", "99"}});
  expect_same_values(c, default_config());
}

TEST(RuntimeConfigAnnotations, PathKeysAreRefused) {
  for (const char* key : {"vmm", "kernel", "image", "log_level"})
    EXPECT_EQ(annotation_error({{std::string("io.vmrt.config.") + key, "/tmp/x"}}),
              fmt::format("annotation io.vmrt.config.{0}: only the runtime configuration file "
                          "sets {0}",
                          key));
}

TEST(RuntimeConfigAnnotations, UnknownKeyIsRefused) {
  EXPECT_THAT(annotation_error({{"io.vmrt.config.vcpu", "2"}}),
              HasSubstr("annotation io.vmrt.config.vcpu: unknown key \"vcpu\""));
  EXPECT_THAT(annotation_error({{"io.vmrt.config.", "2"}}), HasSubstr("unknown key \"\""));
}

TEST(RuntimeConfigAnnotations, BadValuesNameTheAnnotation) {
  EXPECT_EQ(annotation_error({{"io.vmrt.config.vcpus", "0"}}),
            "annotation io.vmrt.config.vcpus: expected an integer from 1 to 64, got \"0\"");
  for (const char* bad : {"", "x", "2x", " 2", "+2", "-2", "2.0", "99999999999999999999"})
    EXPECT_THAT(annotation_error({{"io.vmrt.config.memory_mib", bad}}),
                HasSubstr("annotation io.vmrt.config.memory_mib: expected an integer from 64"))
        << '"' << bad << '"';
  EXPECT_THAT(annotation_error({{"io.vmrt.config.boot_timeout_s", "3601"}}),
              HasSubstr("annotation io.vmrt.config.boot_timeout_s: expected an integer from 1 to "
                        "3600, got \"3601\""));
  EXPECT_EQ(annotation_error({{"io.vmrt.config.fs_cache", "never"}}),
            "annotation io.vmrt.config.fs_cache: expected one of none, auto, always, got "
            "\"never\"");
  EXPECT_THAT(annotation_error({{"io.vmrt.config.kernel_params", "a\nb"}}),
              HasSubstr("annotation io.vmrt.config.kernel_params: expected printable ASCII"));
}

// --- the operator's policy: what a pod's spec may change -------------------

TEST(RuntimeConfigAnnotations, NoneIsHonouredByDefault) {
  for (const char* key : {"vcpus", "memory_mib", "fs_cache", "boot_timeout_s"})
    EXPECT_EQ(annotation_error({{std::string("io.vmrt.config.") + key, "1"}}, default_config()),
              fmt::format("annotation io.vmrt.config.{}: not allowed by built-in configuration "
                          "(annotations.allowed = [])",
                          key));
  EXPECT_THAT(
      annotation_error({{"io.vmrt.config.kernel_params", "init=/bin/sh"}}, default_config()),
      HasSubstr("annotation io.vmrt.config.kernel_params: not allowed: guest kernel "
                "parameters from a pod need annotations.kernel_params = true"));
  // Refused, not ignored: one bad annotation among harmless ones still fails.
  EXPECT_THAT(annotation_error({{"io.kubernetes.cri.sandbox-id", "abc"},
                                {"io.vmrt.config.memory_mib", "1048576"}},
                               default_config()),
              HasSubstr("io.vmrt.config.memory_mib: not allowed"));
}

TEST(RuntimeConfigAnnotations, OnlyTheListedKeysAreHonoured) {
  RuntimeConfig c = parse_config("[annotations]\nallowed = [\"vcpus\", \"fs_cache\"]\n", kFile);
  c.annotations.max_vcpus = 4;
  RuntimeConfig applied =
      apply_annotations(c, {{"io.vmrt.config.vcpus", "3"}, {"io.vmrt.config.fs_cache", "none"}});
  EXPECT_EQ(applied.vcpus, 3u);
  EXPECT_EQ(applied.fs_cache, "none");
  EXPECT_EQ(annotation_error({{"io.vmrt.config.memory_mib", "512"}}, c),
            "annotation io.vmrt.config.memory_mib: not allowed by /etc/vmrt/config.toml "
            "(annotations.allowed = [fs_cache, vcpus])");
  EXPECT_THAT(annotation_error({{"io.vmrt.config.kernel_params", "quiet"}}, c),
              HasSubstr("need annotations.kernel_params = true in /etc/vmrt/config.toml"));
  // Unknown keys and the file's own keys stay refused whatever is allowed.
  EXPECT_THAT(annotation_error({{"io.vmrt.config.vcpu", "2"}}, c), HasSubstr("unknown key"));
  EXPECT_THAT(annotation_error({{"io.vmrt.config.kernel", "/tmp/evil"}}, c),
              HasSubstr("only the runtime configuration file sets kernel"));
}

TEST(RuntimeConfigAnnotations, KernelParamsOnlyWithTheirOwnSwitch) {
  RuntimeConfig c = open_policy();
  c.annotations.kernel_params = false;
  EXPECT_THAT(annotation_error({{"io.vmrt.config.kernel_params", "init=/bin/sh"}}, c),
              HasSubstr("not allowed: guest kernel parameters from a pod need "
                        "annotations.kernel_params = true in built-in configuration"));
  EXPECT_THAT(parse_error("[annotations]\nallowed = [\"kernel_params\"]\n"),
              HasSubstr("annotations.allowed: kernel_params is not listed here: "
                        "annotations.kernel_params = true allows it"));
  c = parse_config("[hypervisor]\nkernel_params = \"quiet\"\n[annotations]\nkernel_params = true\n",
                   kFile);
  EXPECT_TRUE(c.annotations.allowed.empty());
  EXPECT_EQ(apply_annotations(c, {{"io.vmrt.config.kernel_params", "loglevel=7"}}).kernel_params,
            "quiet loglevel=7");
}

TEST(RuntimeConfigAnnotations, SizesAboveTheMaximaAreRefusedNamingTheLimit) {
  RuntimeConfig c = parse_config(R"([annotations]
allowed = ["vcpus", "memory_mib"]
max_vcpus = 2
max_memory_mib = 1024
)",
                                 kFile);
  RuntimeConfig at_limit =
      apply_annotations(c, {{"io.vmrt.config.vcpus", "2"}, {"io.vmrt.config.memory_mib", "1024"}});
  EXPECT_EQ(at_limit.vcpus, 2u);
  EXPECT_EQ(at_limit.memory_mib, 1024u);
  EXPECT_EQ(annotation_error({{"io.vmrt.config.vcpus", "3"}}, c),
            "annotation io.vmrt.config.vcpus: 3 is above the limit of 2 (annotations.max_vcpus "
            "in /etc/vmrt/config.toml)");
  // What the README's pod_annotations used to let any pod ask for.
  EXPECT_EQ(annotation_error({{"io.vmrt.config.vcpus", "64"}}, c),
            "annotation io.vmrt.config.vcpus: 64 is above the limit of 2 (annotations.max_vcpus "
            "in /etc/vmrt/config.toml)");
  EXPECT_EQ(annotation_error({{"io.vmrt.config.memory_mib", "1048576"}}, c),
            "annotation io.vmrt.config.memory_mib: 1048576 is above the limit of 1024 "
            "(annotations.max_memory_mib in /etc/vmrt/config.toml)");
  // Malformed values are refused as such before the limit is looked at.
  for (const char* bad : {"", "2x", "-1", " 1", "0x2", "99999999999999999999", "1e3"})
    EXPECT_THAT(annotation_error({{"io.vmrt.config.vcpus", bad}}, c),
                HasSubstr("annotation io.vmrt.config.vcpus: expected an integer from 1 to 64"))
        << '"' << bad << '"';
}

TEST(RuntimeConfigAnnotations, DefaultMaximaComeFromTheHost) {
  RuntimeConfig d = default_config();
  long cpus = ::sysconf(_SC_NPROCESSORS_ONLN);
  EXPECT_EQ(d.annotations.max_vcpus, static_cast<uint32_t>(std::clamp(cpus, 1L, 64L)));
  uint64_t half_mib =
      uint64_t(::sysconf(_SC_PHYS_PAGES)) * uint64_t(::sysconf(_SC_PAGESIZE)) / 2 >> 20;
  EXPECT_EQ(d.annotations.max_memory_mib, std::clamp<uint64_t>(half_mib, 64, 1 << 20));
  EXPECT_TRUE(d.annotations.allowed.empty());
  EXPECT_FALSE(d.annotations.kernel_params);
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
TEST(RuntimeConfigFile, SandboxConfigAppliesTheFilesPolicyAndValidates) {
  TempDir dir("config-test");
  for (const char* f : {"vmm", "kernel", "image"}) write(dir.path() / f, "x", 0755);
  std::filesystem::path file = dir.path() / "config.toml";
  write(file, fmt::format(R"([hypervisor]
vmm = "{0}/vmm"
kernel = "{0}/kernel"
image = "{0}/image"
[annotations]
allowed = ["memory_mib"]
max_memory_mib = 512
)",
                          dir.path().string()));
  EXPECT_EQ(sandbox_config(file, {{"io.vmrt.config.memory_mib", "512"}}).memory_mib, 512u);
  EXPECT_EQ(error_text([&] {
              sandbox_config(file, {{"io.vmrt.config.memory_mib", "513"}});
            }),
            fmt::format("annotation io.vmrt.config.memory_mib: 513 is above the limit of 512 "
                        "(annotations.max_memory_mib in {})",
                        file.string()));
  EXPECT_THAT(error_text([&] {
                sandbox_config(file, {{"io.vmrt.config.vcpus", "1"}});
              }),
              HasSubstr("io.vmrt.config.vcpus: not allowed by " + file.string()));
  EXPECT_THAT(error_text([&] { sandbox_config(dir.path() / "none.toml", {}); }),
              HasSubstr("none.toml"));
}

class RuntimeConfigValidate : public ::testing::Test {
 protected:
  void SetUp() override {
    config.vmm = dir.path() / "vmrt-vmm";
    config.kernel = dir.path() / "vmlinux";
    config.image = dir.path() / "initramfs.cpio.gz";
    config.source = "/etc/vmrt/config.toml";
    write(config.vmm, "#!/bin/sh\n", 0755);
    write(config.kernel, "kernel");
    write(config.image, "image");
  }
  std::string error() const {
    return error_text([&] { validate(config); });
  }

  TempDir dir{"config-test"};
  RuntimeConfig config;
};

TEST_F(RuntimeConfigValidate, AcceptsExistingFiles) { EXPECT_EQ(error(), ""); }

TEST_F(RuntimeConfigValidate, NamesAMissingKernel) {
  std::filesystem::remove(config.kernel);
  EXPECT_EQ(error(), fmt::format("/etc/vmrt/config.toml: hypervisor.kernel: cannot use {}: No "
                                 "such file or directory",
                                 config.kernel.string()));
}

TEST_F(RuntimeConfigValidate, NamesTheBuiltInDefaultsWhenNoFile) {
  config.source.clear();
  std::filesystem::remove(config.image);
  EXPECT_THAT(error(), HasSubstr("built-in configuration: hypervisor.image: cannot use"));
}

TEST_F(RuntimeConfigValidate, VmmMustBeAnExecutableRegularFile) {
  ASSERT_EQ(::chmod(config.vmm.c_str(), 0644), 0);
  // root may read anything, but execute only what has an x bit.
  EXPECT_THAT(error(), HasSubstr("hypervisor.vmm: cannot execute"));
  config.vmm = dir.path();
  EXPECT_THAT(error(),
              HasSubstr("hypervisor.vmm: " + dir.path().string() + " is not a regular file"));
}

TEST_F(RuntimeConfigValidate, ChecksRangesAndNames) {
  RuntimeConfig good = config;
  config.vcpus = 0;
  EXPECT_EQ(error(),
            "/etc/vmrt/config.toml: hypervisor.vcpus: expected an integer from 1 to 64, got 0");
  config = good;
  config.memory_mib = uint64_t(1) << 63;
  EXPECT_THAT(error(), HasSubstr("hypervisor.memory_mib: expected an integer from 64"));
  config = good;
  config.boot_timeout = std::chrono::seconds(-1);
  EXPECT_THAT(error(), HasSubstr("hypervisor.boot_timeout_s"));
  config = good;
  config.fs_cache = "fast";
  EXPECT_THAT(error(), HasSubstr("virtiofs.cache: expected one of none, auto, always"));
  config = good;
  config.log_level = "loud";
  EXPECT_THAT(error(), HasSubstr("log.level: expected one of"));
}

TEST(RuntimeConfigFile, TheBuildTreesDevelopmentConfigParses) {
  RuntimeConfig c = load_config(VMRT_DEV_CONFIG, true);
  EXPECT_EQ(c.vmm.filename(), "vmrt-vmm");
  EXPECT_EQ(c.kernel.filename(), "vmlinux");
  EXPECT_EQ(c.image.filename(), "initramfs.cpio.gz");
  EXPECT_EQ(c.boot_timeout, std::chrono::seconds(120));
  EXPECT_EQ(c.vcpus, default_config().vcpus);
}

TEST(RuntimeConfigJson, EveryKeyAndTheSource) {
  RuntimeConfig c = default_config();
  c.source = kFile;
  nlohmann::json j = to_json(c);
  EXPECT_EQ(j.at("vmm"), c.vmm.string());
  EXPECT_EQ(j.at("kernel"), c.kernel.string());
  EXPECT_EQ(j.at("image"), c.image.string());
  EXPECT_EQ(j.at("kernel_params"), "");
  EXPECT_EQ(j.at("vcpus"), 1);
  EXPECT_EQ(j.at("memory_mib"), 256);
  EXPECT_EQ(j.at("boot_timeout_s"), 30);
  EXPECT_EQ(j.at("fs_cache"), "auto");
  EXPECT_EQ(j.at("log_level"), "info");
  EXPECT_EQ(j.at("jail"), true);
  EXPECT_EQ(j.at("jail_uid"), 65534);
  EXPECT_EQ(j.at("jail_gid"), 65534);
  EXPECT_EQ(j.at("cgroup_parent"), "vmrt");
  EXPECT_EQ(j.at("allowed_annotations"), nlohmann::json::array());
  EXPECT_EQ(j.at("annotation_kernel_params"), false);
  EXPECT_EQ(j.at("annotation_max_vcpus"), c.annotations.max_vcpus);
  EXPECT_EQ(j.at("annotation_max_memory_mib"), c.annotations.max_memory_mib);
  EXPECT_EQ(j.at("source"), kFile);
  EXPECT_EQ(j.size(), 18u);
}

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

}  // namespace
}  // namespace vmrt::sandbox
